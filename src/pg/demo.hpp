// The demo generator's rows for SQL (src/pg/demo.cpp).
#pragma once

#include <string>

#include "pg/boundary.hpp"

namespace insight::pg {

// Fills the set-returning function's result with the rows of the standard table `table`
// (products, transactions, ..., demo_ground_truth) for the generator arguments from
// `first_arg` on (days, seed, end_time, step [, remotes]).
Datum demo_rows(FunctionCallInfo fcinfo, const std::string& table, int first_arg);

}  // namespace insight::pg
