// See source.hpp.
#include <string>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "pg/source.hpp"
#include "pg/values.hpp"

namespace insight::pg {

SourceRelation source_relation(FunctionCallInfo fcinfo, int n) {
  if (insight::pg::arg_is_null(fcinfo, n))
    throw insight::InvalidParameter("source must not be NULL");
  return source_relation(PG_GETARG_OID(n));
}

SourceRelation source_relation(Oid relid) {
  SourceRelation s;
  s.relid = relid;
  const char* nsp = nullptr;
  const char* rel = nullptr;
  guard([relid, &nsp, &rel] {
    rel = get_rel_name(relid);
    if (rel != nullptr) nsp = get_namespace_name(get_rel_namespace(relid));
  });
  if (rel == nullptr || nsp == nullptr)
    throw insight::UndefinedObject("relation with OID " + std::to_string(relid) +
                                   " does not exist");
  s.qualified = guard([nsp, rel] { return quote_qualified_identifier(nsp, rel); });
  return s;
}

// Source relations are read with the caller's privileges: checked up front for a clear error.
void check_select(const SourceRelation& s, const std::vector<std::string>& columns) {
  const Oid relid = s.relid;
  const bool table_ok =
      guard([relid] { return pg_class_aclcheck(relid, GetUserId(), ACL_SELECT) == ACLCHECK_OK; });
  if (table_ok) return;
  for (const auto& c : columns) {
    const char* name = c.c_str();
    const bool ok = guard([relid, name] {
      const AttrNumber att = get_attnum(relid, name);
      return att != InvalidAttrNumber &&
             pg_attribute_aclcheck(relid, att, GetUserId(), ACL_SELECT) == ACLCHECK_OK;
    });
    if (!ok) {
      const std::string role =
          guard([] { return quote_identifier(GetUserNameFromId(GetUserId(), false)); });
      throw insight::InsufficientPrivilege(
          "permission denied for table " + s.qualified,
          "Reading column \"" + c + "\" needs the SELECT privilege.",
          "pg_insight reads source relations with your own privileges: the table's owner can "
          "GRANT SELECT ON " +
              s.qualified + " TO " + role + ".");
    }
  }
}

// The column's base type; UndefinedColumn (42703) when absent.
Oid column_type(const SourceRelation& s, const std::string& column, const char* role) {
  const Oid relid = s.relid;
  const char* name = column.c_str();
  const Oid type = guard([relid, name] {
    const AttrNumber att = get_attnum(relid, name);
    return att == InvalidAttrNumber ? InvalidOid : getBaseType(get_atttype(relid, att));
  });
  if (type == InvalidOid)
    throw insight::UndefinedColumn(
        "column \"" + column + "\" of relation " + s.qualified + " does not exist",
        std::string("It was named as ") + role + ".");
  return type;
}

Oid numeric_column(const SourceRelation& s, const std::string& column, const char* role,
                   const char* noun, const char* who) {
  const Oid type = column_type(s, column, role);
  if (!is_numeric_type(type))
    throw insight::InvalidParameter(std::string(noun) + " column \"" + column + "\" is not numeric",
                                    std::string(who) + " must be " + kNumericTypes + ".");
  return type;
}

std::string quoted(const std::string& identifier) {
  const char* id = identifier.c_str();
  return guard([id] { return quote_identifier(id); });
}

std::string time_column_of(const SourceRelation& s) {
  const Oid relid = s.relid;
  const TupleDesc desc = guard([relid] {
    TupleDesc cached = lookup_rowtype_tupdesc(get_rel_type_id(relid), -1);
    TupleDesc copy = CreateTupleDescCopy(cached);
    ReleaseTupleDesc(cached);
    return copy;
  });
  std::vector<std::string> times;
  for (int k = 0; k < desc->natts; ++k) {
    const Form_pg_attribute att = TupleDescAttr(desc, k);
    if (att->attisdropped) continue;
    const Oid type = att->atttypid;
    const Oid base = guard([type] { return getBaseType(type); });
    if (base == TIMESTAMPTZOID || base == TIMESTAMPOID || base == DATEOID)
      times.emplace_back(NameStr(att->attname));
  }
  if (times.size() == 1) return times[0];
  for (const auto& t : times)
    if (t == "ts") return t;
  return "";
}

const char* const kNumericTypes = "double precision, real, smallint, integer, bigint or numeric";

bool is_numeric_type(Oid base) {
  return base == FLOAT8OID || base == FLOAT4OID || base == INT2OID || base == INT4OID ||
         base == INT8OID || base == NUMERICOID;
}

namespace {
int training_threads_guc = 0;
}

unsigned training_threads() { return static_cast<unsigned>(training_threads_guc); }

void init_training() {
  DefineCustomIntVariable(
      "insight.training_threads", "Threads training and evaluation use (0 = one per core).",
      "Forecasters train their series side by side, recommenders solve users and items side by "
      "side; the backend itself only waits and answers cancels.",
      &training_threads_guc, 0, 0, 256, PGC_USERSET, 0, nullptr, nullptr, nullptr);
}

int64_t elapsed_us(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration_cast<std::chrono::microseconds>(std::chrono::steady_clock::now() -
                                                               since)
      .count();
}

}  // namespace insight::pg
