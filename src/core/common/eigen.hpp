// The only way the core includes Eigen. Eigen's assertions (dimension mismatches, bad
// indices) call eigen_assert; by default that is assert(), which aborts the process — inside
// a PostgreSQL backend that would crash the server. Here it throws insight::InternalError,
// which the boundary turns into an ERROR with SQLSTATE XX000, and it stays on in release builds.
#pragma once

#if defined(EIGEN_CORE_H) || defined(EIGEN_CORE_MODULE_H)
#error "include core/common/eigen.hpp before any Eigen header"
#endif

#include "core/common/error.hpp"

namespace insight::detail {
[[noreturn]] void eigen_assert_failed(const char* condition, const char* file, int line);
}

#define eigen_assert(x)                                                                        \
  do {                                                                                         \
    if (!static_cast<bool>(x)) ::insight::detail::eigen_assert_failed(#x, __FILE__, __LINE__); \
  } while (false)

#include <Eigen/Core>
#include <Eigen/Dense>
#include <Eigen/Sparse>
