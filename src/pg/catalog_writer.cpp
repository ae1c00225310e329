#include <string>
#include <vector>

#include "core/common/error.hpp"

#include "pg/catalog_writer.hpp"
#include "pg/values.hpp"

namespace insight::pg {

void check_model_name(const std::string& name) {
  auto ok_char = [](char c) {
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
           c == '.' || c == ':' || c == '-';
  };
  bool ok =
      !name.empty() && name.size() <= 63 && name[0] != '.' && name[0] != ':' && name[0] != '-';
  for (char c : name) ok = ok && ok_char(c);
  if (!ok)
    throw InvalidParameter(
        "invalid model name " + insight::echo(name),
        "A model name is 1 to 63 characters: letters, digits, and _ . : - (not first).");
}

void require_admin(const std::string& function) {
  // current_user: the role PostgreSQL itself checks EXECUTE for (inside a user's SECURITY
  // DEFINER function, its owner), so this check lets exactly the roles a GRANT would.
  const Oid role = GetUserId();
  if (guard([role] { return has_privs_of_role(role, get_role_oid("insight_admin", false)); }))
    return;
  const std::string name =
      guard([role] { return quote_identifier(GetUserNameFromId(role, false)); });
  throw InsufficientPrivilege(
      "permission denied for function " + function,
      "insight." + function +
          " trains, deploys or changes models or data: it is for members of "
          "insight_admin, and role " +
          name + " is not one.",
      "A superuser, or a role with ADMIN OPTION on insight_admin, can GRANT insight_admin TO " +
          name + ".");
}

Datum store_model(const StoreRequest& r) {
  spi_connect();
  // The catalog's owner writes it; the caller's identity is still recorded, because
  // insight._acting_role() reads the outer user, not the current one.
  const uint64_t n = spi_exec(
      "SELECT c.relowner FROM pg_catalog.pg_class c "
      "WHERE c.oid OPERATOR(pg_catalog.=) 'insight.models'::pg_catalog.regclass",
      {}, true);
  if (n != 1) throw InternalError("insight.models not found");
  const auto owner = static_cast<Oid>(spi_int64(0, 1).value_or(0));
  Oid saved_user = InvalidOid;
  int saved_context = 0;
  guard([&] { GetUserIdAndSecContext(&saved_user, &saved_context); });

  // A database whose extension is not yet updated to 0.3.0 has the older _store_model, which
  // learns task and algorithm from the payload itself (training_compat.cpp).
  const bool current = spi_exec(
                           "SELECT 1 FROM pg_catalog.pg_proc p "
                           "WHERE p.pronamespace OPERATOR(pg_catalog.=) "
                           "'insight'::pg_catalog.regnamespace "
                           "AND p.proname OPERATOR(pg_catalog.=) '_store_model' "
                           "AND p.pronargs OPERATOR(pg_catalog.=) 13",
                           {}, true) == 1;
  std::vector<SpiArg> args{spi_text_arg(r.name)};
  if (current) {
    args.push_back(spi_text_arg(r.task));
    args.push_back(spi_text_arg(r.algorithm));
  }
  const std::vector<SpiArg> rest{
      SpiArg{BYTEAOID, bytea_datum(r.payload.data(), r.payload.size()), false},
      r.features.empty() ? SpiArg{TEXTARRAYOID, static_cast<Datum>(0), true}
                         : SpiArg{TEXTARRAYOID, text_array_datum(r.features), false},
      spi_text_arg(r.source),
      SpiArg{JSONBOID, jsonb_datum(r.params_json), false},
      SpiArg{JSONBOID, jsonb_datum(r.metrics_json), false},
      spi_int8_arg(r.rows_used),
      spi_int8_arg(r.rows_skipped),
      SpiArg{FLOAT8OID, Float8GetDatum(r.training_ms), false},
      SpiArg{TIMESTAMPTZOID, TimestampTzGetDatum(r.started_at), false},
      SpiArg{BOOLOID, BoolGetDatum(r.deploy), false},
  };
  args.insert(args.end(), rest.begin(), rest.end());
  // On an error the transaction (or subtransaction) abort restores the user id.
  guard([&] { SetUserIdAndSecContext(owner, saved_context | SECURITY_LOCAL_USERID_CHANGE); });
  spi_exec(current ? "SELECT insight._store_model($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, "
                     "$12, $13)"
                   : "SELECT insight._store_model($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
           args, false);
  guard([&] { SetUserIdAndSecContext(saved_user, saved_context); });
  const Datum result = guard([] {
    bool isnull = false;
    Datum d = SPI_getbinval(SPI_tuptable->vals[0], SPI_tuptable->tupdesc, 1, &isnull);
    return isnull ? static_cast<Datum>(0) : SPI_datumTransfer(d, false, -1);
  });
  spi_finish();
  return result;
}

}  // namespace insight::pg

// _check_model_name(name text): the model-name rule for SQL (insight._store_model).
INSIGHT_FUNCTION(insight_check_model_name) {
  if (insight::pg::arg_is_null(fcinfo, 0))
    throw insight::InvalidParameter("invalid model name \"<NULL>\"");
  insight::pg::check_model_name(insight::pg::text_arg(fcinfo, 0, "name"));
  PG_RETURN_VOID();
}

// _require_admin(function text): the admin check for SQL (the lifecycle functions).
INSIGHT_FUNCTION(insight_require_admin) {
  insight::pg::require_admin(insight::pg::text_arg(fcinfo, 0, "function"));
  PG_RETURN_VOID();
}

// _echo(value text): a value the user gave, quoted and cut for a message (insight::echo), so
// SQL and C++ echo values alike.
INSIGHT_FUNCTION(insight_echo) {
  return insight::pg::text_datum(insight::echo(insight::pg::text_arg(fcinfo, 0, "value")));
}
