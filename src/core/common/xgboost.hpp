// XGBoost's C API with exceptions and RAII handles, for the learners that grow boosted trees
// (forecast gradient_boosting, the root-cause classifier). The trees are always copied into a
// TreeEnsemble afterwards: payloads never hold XGBoost's own serialisation.
#pragma once

#include <xgboost/c_api.h>

#include <string>

#include "core/common/error.hpp"

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

}  // namespace insight::xgb
