#include "core/common/eigen.hpp"

#include <string>

namespace insight::detail {

void eigen_assert_failed(const char* condition, const char* file, int line) {
  throw InternalError(std::string("Eigen assertion failed: ") + condition,
                      std::string("at ") + file + ":" + std::to_string(line));
}

}  // namespace insight::detail
