#include "core/rootcause/options.hpp"

#include <cmath>
#include <string>

#include "core/common/error.hpp"
#include "core/common/options.hpp"

namespace insight::rootcause {

ClassifierTrainingOptions ClassifierTrainingOptions::from_json(const nlohmann::json& options) {
  OptionReader r(options, "root-cause classifier options");
  ClassifierTrainingOptions o;
  o.rounds = r.int4("rounds", o.rounds);
  o.max_depth = r.int4("max_depth", o.max_depth);
  o.eta = r.float8("eta", o.eta);
  o.min_child_weight = r.float8("min_child_weight", o.min_child_weight);
  r.finish();
  if (o.rounds < 1 || o.rounds > 10000)
    throw InvalidParameter("rounds must be between 1 and 10000", "got " + std::to_string(o.rounds));
  if (o.max_depth < 1 || o.max_depth > 32)
    throw InvalidParameter("max_depth must be between 1 and 32",
                           "got " + std::to_string(o.max_depth));
  if (!(o.eta > 0 && o.eta <= 1))
    throw InvalidParameter("eta must be in (0, 1]", "got " + format_number(o.eta));
  if (!(o.min_child_weight >= 0 && std::isfinite(o.min_child_weight)))
    throw InvalidParameter("min_child_weight must be a finite number, at least 0",
                           "got " + format_number(o.min_child_weight));
  return o;
}

nlohmann::json to_json(const ClassifierOptions& o) {
  return {{"rounds", o.rounds},
          {"max_depth", o.max_depth},
          {"eta", o.eta},
          {"min_child_weight", o.min_child_weight}};
}

nlohmann::json ClassifierTrainingOptions::to_json() const {
  return rootcause::to_json(static_cast<const ClassifierOptions&>(*this));
}

}  // namespace insight::rootcause
