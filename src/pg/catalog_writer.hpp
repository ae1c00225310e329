// Writing a trained model into the catalog on the caller's behalf. Training functions run
// with the caller's privileges (they read the caller's tables as the caller); the catalog
// write then runs as the catalog's owner — the one path by which a new version, its training
// run and its deployment are recorded, with the training's own figures (rows, duration).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "pg/boundary.hpp"

namespace insight::pg {

struct StoreRequest {
  std::string name;
  std::string task, algorithm;  // catalog names (task_name, algorithm_name)
  std::vector<uint8_t> payload;
  std::vector<std::string> features;
  std::string source;
  std::string params_json = "{}";
  std::string metrics_json = "{}";
  int64_t rows_used = 0;
  int64_t rows_skipped = 0;
  double training_ms = 0;
  TimestampTz started_at = 0;
  bool deploy = true;
};

// Writes the version (insight._store_model) and returns the insight.training_result datum,
// allocated in the caller's memory context.
Datum store_model(const StoreRequest& request);

// Throws InvalidParameter unless `name` is a valid model name (1-63 of [A-Za-z0-9_.:-], not
// starting with . : or -) — checked before any training work is done. The one rule: SQL
// (insight._store_model) calls it through insight._check_model_name.
void check_model_name(const std::string& name);

// Throws InsufficientPrivilege (42501) naming `function`, the role and the GRANT that fixes it,
// unless current_user is a member of insight_admin. The admin functions users call are
// executable by insight_analyst too, and each calls this first (SQL through
// insight._require_admin), so that an analyst gets this error with its HINT instead of
// PostgreSQL's bare "permission denied for function". Those whose bodies must run as the
// catalog's owner are invoker-rights entries in front of a SECURITY DEFINER body that only
// insight_admin may execute (insight._admin_entry), so current_user is still the caller's.
void require_admin(const std::string& function);

}  // namespace insight::pg
