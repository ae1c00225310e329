// XGBoost's C API with exceptions and RAII handles, for the learners that grow boosted trees
// (forecast gradient_boosting, the root-cause classifier). The trees are always copied into a
// TreeEnsemble afterwards: payloads never hold XGBoost's own serialisation.
#pragma once

#include <xgboost/c_api.h>

#include <cstddef>
#include <string>
#include <utility>
#include <vector>

#include "core/common/error.hpp"
#include "core/common/interrupt.hpp"

namespace insight::xgb {

// XGBoost reports failures through return codes; turn them into exceptions.
inline void check(int rc) {
  if (rc != 0) throw InternalError(std::string("XGBoost: ") + XGBGetLastError());
}

// An XGBoost handle, freed with its own function when it goes out of scope.
template <typename H, int (*Free)(H)>
struct Handle {
  H h = nullptr;
  Handle() = default;
  Handle(const Handle&) = delete;
  Handle& operator=(const Handle&) = delete;
  ~Handle() {
    if (h) Free(h);
  }
};

using DMatrix = Handle<DMatrixHandle, XGDMatrixFree>;

struct Booster : Handle<BoosterHandle, XGBoosterFree> {
  void set(const char* key, const std::string& value) {
    check(XGBoosterSetParam(h, key, value.c_str()));
  }
  // The model as XGBoost's JSON text.
  std::string json() const {
    bst_ulong len = 0;
    const char* buf = nullptr;
    check(XGBoosterSaveModelToBuffer(h, R"({"format": "json"})", &len, &buf));
    return std::string(buf, len);
  }
};

// What boost() grew: the model as XGBoost's JSON text (TreeEnsemble::from_xgboost_json reads
// it) and, when asked for, XGBoost's own predictions of the training rows.
struct Boosted {
  std::string json;
  std::vector<float> predictions;
};

// Grows `rounds` boosting rounds on a dense row-major matrix X (rows × features, NaN for
// missing) with labels y, XGBoost's parameters set in the order given, polling `interrupt` before
// every `poll_every`-th round. The one training loop of the learners that boost trees.
Boosted boost(const std::vector<float>& X, const std::vector<float>& y, size_t features,
              const std::vector<std::pair<const char*, std::string>>& params, int rounds,
              int poll_every, const InterruptCheck& interrupt, bool predictions = false);

}  // namespace insight::xgb
