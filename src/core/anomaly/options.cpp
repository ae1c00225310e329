#include "core/anomaly/options.hpp"

#include <algorithm>
#include <string>

#include "core/common/error.hpp"
#include "core/common/options.hpp"

namespace insight::anomaly {

void check_options(const TrainOptions& o) {
  if (o.forest.n_trees < 1 || o.forest.n_trees > 10000)
    throw InvalidParameter("n_trees must be between 1 and 10000",
                           "got " + std::to_string(o.forest.n_trees));
  if (o.forest.sample_size < 2 || o.forest.sample_size > (1 << 20))
    throw InvalidParameter("sample_size must be between 2 and 1048576",
                           "got " + std::to_string(o.forest.sample_size));
  check_contamination(o.contamination);
}

DetectorOptions DetectorOptions::from_json(const nlohmann::json& options) {
  OptionReader r(options, "anomaly detector options");
  DetectorOptions o;
  o.features = r.text_array("features");
  if (o.features.empty()) throw InvalidParameter("features must name at least one column");
  for (auto it = o.features.begin(); it != o.features.end(); ++it)
    if (std::find(o.features.begin(), it, *it) != it)
      throw InvalidParameter("feature \"" + *it + "\" is named twice");
  o.model.contamination = r.float8("contamination", 0.05);
  o.model.forest.n_trees = r.int4("n_trees", 100);
  o.model.forest.sample_size = r.int4("sample_size", 256);
  o.model.forest.seed = r.seed("seed", 42);
  o.model.standardize = r.boolean("standardize", true);
  r.finish();
  check_options(o.model);
  return o;
}

nlohmann::json DetectorOptions::to_json() const {
  return {{"features", features},
          {"contamination", model.contamination},
          {"n_trees", model.forest.n_trees},
          {"sample_size", model.forest.sample_size},
          // As the SQL argument gave it (an int4), though the forest uses its 32 bits.
          {"seed", static_cast<int32_t>(static_cast<uint32_t>(model.forest.seed))},
          {"standardize", model.standardize}};
}

}  // namespace insight::anomaly
