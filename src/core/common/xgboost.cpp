#include "core/common/xgboost.hpp"

#include <cmath>

namespace insight::xgb {

Boosted boost(const std::vector<float>& X, const std::vector<float>& y, size_t features,
              const std::vector<std::pair<const char*, std::string>>& params, int rounds,
              int poll_every, const InterruptCheck& interrupt, bool predictions) {
  DMatrix d;
  xgb::check(XGDMatrixCreateFromMat(X.data(), y.size(), features, std::nanf(""), &d.h));
  xgb::check(XGDMatrixSetFloatInfo(d.h, "label", y.data(), y.size()));
  Booster b;
  xgb::check(XGBoosterCreate(&d.h, 1, &b.h));
  for (const auto& [key, value] : params) b.set(key, value);
  for (int round = 0; round < rounds; ++round) {
    if (round % poll_every == 0) poll(interrupt);
    xgb::check(XGBoosterUpdateOneIter(b.h, round, d.h));
  }
  Boosted out;
  out.json = b.json();
  if (predictions) {
    bst_ulong n = 0;
    const float* p = nullptr;
    xgb::check(XGBoosterPredict(b.h, d.h, 0, 0, 0, &n, &p));
    out.predictions.assign(p, p + n);
  }
  return out;
}

}  // namespace insight::xgb
