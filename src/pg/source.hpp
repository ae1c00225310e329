// Reading a caller's source relation safely: resolve it from its regclass, check the caller's
// SELECT privilege up front, resolve columns through the catalog (42703 when absent) and quote
// every identifier that goes into SQL text.
#pragma once

#include <chrono>
#include <cstdint>
#include <string>
#include <vector>

#include "pg/boundary.hpp"

namespace insight::pg {

struct SourceRelation {
  Oid relid;
  // Schema-qualified and quoted: safe in SQL text, readable back as a regclass, and what
  // messages and the catalog's source column show.
  std::string qualified;
};

// Argument n as a regclass; 22023 when NULL, 42704 when the relation is gone.
SourceRelation source_relation(FunctionCallInfo fcinfo, int n);
// The relation of an OID; 42704 when it is gone.
SourceRelation source_relation(Oid relid);
// 42501 unless the caller may SELECT the relation, or at least each of `columns`.
void check_select(const SourceRelation& s, const std::vector<std::string>& columns);
// The column's base type; UndefinedColumn (42703) when absent. `role` says which argument
// named it ("a feature", "time_column").
Oid column_type(const SourceRelation& s, const std::string& column, const char* role);
// column_type, and 22023 "<noun> column "c" is not numeric" (DETAIL "<who> must be ...")
// unless that type is one of kNumericTypes.
Oid numeric_column(const SourceRelation& s, const std::string& column, const char* role,
                   const char* noun, const char* who);
std::string quoted(const std::string& identifier);
// The relation's time column: its only timestamptz, timestamp or date column, or the one of
// them named "ts"; empty when there is none, or several and none is named "ts".
std::string time_column_of(const SourceRelation& s);

extern const char* const kNumericTypes;  // for messages
bool is_numeric_type(Oid base);

int64_t elapsed_us(std::chrono::steady_clock::time_point since);

// GUC insight.training_threads: threads for training and evaluation; 0 = one per core.
unsigned training_threads();
void init_training();  // defines the GUC; from _PG_init
// GUC insight.correlate_raw_rows (src/pg/rootcause.cpp); from _PG_init.
void init_rootcause();

}  // namespace insight::pg
