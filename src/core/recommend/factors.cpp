#include "core/recommend/factors.hpp"

#include <algorithm>
#include <cmath>

#include "core/common/eigen.hpp"
#include "core/common/error.hpp"
#include "core/common/parallel.hpp"
#include "core/common/random.hpp"

namespace insight::recommend {
namespace {

using RowMatrix = Eigen::Matrix<double, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vector = Eigen::VectorXd;

// One half-step of ALS: re-solves every row of X (the rows of `m`) against the fixed Y.
void solve_side(const Csr& m, const RowMatrix& Y, RowMatrix& X, const AlsOptions& o,
                const InterruptCheck& check) {
  const Eigen::Index f = Y.cols();
  const Eigen::MatrixXd YtY = Y.transpose() * Y;
  constexpr uint32_t kBlock = 256;
  const size_t blocks = (size_t{m.rows} + kBlock - 1) / kBlock;
  parallel_for(
      blocks, o.threads,
      [&](size_t b, const InterruptCheck& poll_worker) {
        poll(poll_worker);
        Vector x(f), r(f), p(f), Ap(f);
        const uint32_t first = static_cast<uint32_t>(b * kBlock);
        const uint32_t last = std::min<uint32_t>(m.rows, first + kBlock);
        for (uint32_t row = first; row < last; ++row) {
          x = X.row(row).transpose();
          // Weighted-λ regularisation (Zhou et al. 2008): λ grows with the row's interactions,
          // so one λ suits light and heavy users, small and large catalogues.
          const double lambda = o.regularization * std::max<uint32_t>(1, m.row_size(row));
          // r = b − A·x, with b = Σ cᵢ yᵢ and A·x = (YᵀY + λI)·x + Σ (cᵢ − 1)(yᵢ·x) yᵢ.
          r.noalias() = -(YtY * x) - lambda * x;
          for (uint32_t k = m.indptr[row]; k < m.indptr[row + 1]; ++k) {
            const double c = 1.0 + o.alpha * m.values[k];
            const auto y = Y.row(m.indices[k]);
            r.noalias() += (c - (c - 1.0) * y.dot(x.transpose())) * y.transpose();
          }
          p = r;
          double rs_old = r.squaredNorm();
          for (uint32_t step = 0; step < o.cg_steps && rs_old > 1e-20; ++step) {
            Ap.noalias() = YtY * p + lambda * p;
            for (uint32_t k = m.indptr[row]; k < m.indptr[row + 1]; ++k) {
              const double c = 1.0 + o.alpha * m.values[k];
              const auto y = Y.row(m.indices[k]);
              Ap.noalias() += ((c - 1.0) * y.dot(p.transpose())) * y.transpose();
            }
            const double pAp = p.dot(Ap);
            if (!(pAp > 0)) break;
            const double step_size = rs_old / pAp;
            x.noalias() += step_size * p;
            r.noalias() -= step_size * Ap;
            const double rs_new = r.squaredNorm();
            p = r + (rs_new / rs_old) * p;
            rs_old = rs_new;
          }
          X.row(row) = x.transpose();
        }
      },
      check);
}

RowMatrix random_factors(uint32_t rows, uint32_t f, Rng& rng) {
  RowMatrix m(rows, f);
  // Small positive values, as in the implicit library: a neutral start for warm-started CG.
  for (Eigen::Index i = 0; i < m.size(); ++i) m.data()[i] = rng.uniform() * 0.01;
  return m;
}

std::vector<float> to_float(const RowMatrix& m) {
  std::vector<float> out(static_cast<size_t>(m.size()));
  for (Eigen::Index i = 0; i < m.size(); ++i)
    out[static_cast<size_t>(i)] = static_cast<float>(m.data()[i]);
  return out;
}

// The float32 factors of a finished training; InvalidParameter when it diverged.
Factors pack(const RowMatrix& users, const RowMatrix& items, const char* what) {
  if (!users.allFinite() || !items.allFinite())
    throw InvalidParameter(std::string(what) + " diverged to non-finite values", "",
                           "lower alpha or raise the regularization");
  Factors out;
  out.factors = static_cast<uint32_t>(users.cols());
  out.users = to_float(users);
  out.items = to_float(items);
  return out;
}

}  // namespace

Factors train_als(const Csr& by_user, const Csr& by_item, const AlsOptions& o,
                  const InterruptCheck& check) {
  if (o.factors < 1) throw InvalidParameter("factors must be at least 1");
  Rng rng(o.seed);
  RowMatrix X = random_factors(by_user.rows, o.factors, rng);
  RowMatrix Y = random_factors(by_item.rows, o.factors, rng);
  for (uint32_t it = 0; it < o.iterations; ++it) {
    solve_side(by_user, Y, X, o, check);
    solve_side(by_item, X, Y, o, check);
  }
  return pack(X, Y, "ALS");
}

Factors train_svd(const Csr& by_user, const SvdOptions& o, const InterruptCheck& check) {
  const uint32_t n_users = by_user.rows, n_items = by_user.cols;
  if (o.factors < 1 || o.factors >= std::min(n_users, n_items))
    throw InvalidParameter("svd needs more users and more items than factors",
                           "factors " + std::to_string(o.factors) + ", users " +
                               std::to_string(n_users) + ", items " + std::to_string(n_items),
                           "lower factors");
  using Sparse = Eigen::SparseMatrix<double, Eigen::RowMajor, int>;
  Sparse A(n_users, n_items);
  {
    std::vector<Eigen::Triplet<double, int>> t;
    t.reserve(by_user.nnz());
    for (uint32_t u = 0; u < n_users; ++u)
      for (uint32_t k = by_user.indptr[u]; k < by_user.indptr[u + 1]; ++k)
        t.emplace_back(static_cast<int>(u), static_cast<int>(by_user.indices[k]),
                       static_cast<double>(by_user.values[k]));
    A.setFromTriplets(t.begin(), t.end());
  }
  const Eigen::Index l =
      std::min<Eigen::Index>(o.factors + o.oversampling, std::min(n_users, n_items));
  Rng rng(o.seed);
  Eigen::MatrixXd omega(n_items, l);
  for (Eigen::Index i = 0; i < omega.size(); ++i) {
    // Box–Muller: a standard normal from two uniforms (the PRNG is ours, so is the result).
    // With the C library's log and cos, one value per pair: not the demo generator's normal(),
    // which keeps the pair's second value and uses its own math so its tables are
    // bit-identical everywhere (changing either would change SVD models or demo data).
    const double u1 = 1.0 - rng.uniform(), u2 = rng.uniform();
    omega.data()[i] = std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * M_PI * u2);
  }
  // An orthonormal basis of m's columns: Cholesky QR twice (CholQR2: Q = M·R⁻¹ with RᵀR = MᵀM,
  // repeated once to restore orthogonality to machine precision) — a few dense products
  // instead of Householder's column-by-column work; Householder QR when MᵀM is not positive
  // definite (dependent columns).
  auto orthonormal = [](Eigen::MatrixXd m) -> Eigen::MatrixXd {
    for (int pass = 0; pass < 2; ++pass) {
      const Eigen::MatrixXd gram = m.transpose() * m;
      Eigen::LLT<Eigen::MatrixXd> llt(gram);
      if (llt.info() != Eigen::Success ||
          !(llt.matrixLLT().diagonal().minCoeff() > 1e-8 * std::sqrt(gram.diagonal().maxCoeff()))) {
        Eigen::HouseholderQR<Eigen::MatrixXd> qr(m);
        return qr.householderQ() * Eigen::MatrixXd::Identity(m.rows(), m.cols());
      }
      llt.matrixU().solveInPlace<Eigen::OnTheRight>(m);
    }
    return m;
  };
  const Sparse At = A.transpose();  // row-major too: both products walk rows
  Eigen::MatrixXd Q = orthonormal(A * omega);
  for (uint32_t it = 0; it < o.power_iterations; ++it) {
    poll(check);
    Eigen::MatrixXd Z = orthonormal(At * Q);
    Q = orthonormal(A * Z);
  }
  poll(check);
  const Eigen::MatrixXd Bt = At * Q;  // Bᵀ = AᵀQ, items × l
  Eigen::BDCSVD<Eigen::MatrixXd> svd(Bt, Eigen::ComputeThinU | Eigen::ComputeThinV);
  // Bᵀ = U_b S V_bᵀ, so B = V_b S U_bᵀ and A ≈ Q·B = (Q V_b) S U_bᵀ.
  const Eigen::Index k = o.factors;
  const Eigen::VectorXd s = svd.singularValues().head(k);
  RowMatrix user_f = (Q * svd.matrixV().leftCols(k)) * s.asDiagonal();
  RowMatrix item_f = svd.matrixU().leftCols(k);
  // A deterministic sign: each component's largest-magnitude item loading is positive.
  for (Eigen::Index c = 0; c < k; ++c) {
    Eigen::Index arg;
    item_f.col(c).cwiseAbs().maxCoeff(&arg);
    if (item_f(arg, c) < 0) {
      item_f.col(c) *= -1;
      user_f.col(c) *= -1;
    }
  }
  return pack(user_f, item_f, "SVD");
}

}  // namespace insight::recommend
