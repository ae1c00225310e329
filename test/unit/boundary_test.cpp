// The pure half of the C++/PostgreSQL boundary: exception → SQLSTATE mapping, and Eigen and
// dlib assertions throwing instead of aborting the process.
#include <gtest/gtest.h>

#include <new>

#include "core/common/interrupt.hpp"
#include "core/common/dlib.hpp"
#include "core/common/eigen.hpp"
#include "core/common/error.hpp"

namespace insight {
namespace {

TEST(SqlState, MappingFollowsApiTable) {
  EXPECT_STREQ(sqlstate_of(InvalidParameter("x")), "22023");
  EXPECT_STREQ(sqlstate_of(UndefinedColumn("x")), "42703");
  EXPECT_STREQ(sqlstate_of(UndefinedObject("x")), "42704");
  EXPECT_STREQ(sqlstate_of(InsufficientPrivilege("x")), "42501");
  EXPECT_STREQ(sqlstate_of(CorruptPayload("x")), "XX001");
  EXPECT_STREQ(sqlstate_of(InternalError("x")), "XX000");
  EXPECT_STREQ(sqlstate_of(std::invalid_argument("x")), "22023");
  EXPECT_STREQ(sqlstate_of(std::out_of_range("x")), "22023");
  EXPECT_STREQ(sqlstate_of(std::bad_alloc()), "53200");
  EXPECT_STREQ(sqlstate_of(std::length_error("x")), "53200");
  EXPECT_STREQ(sqlstate_of(std::runtime_error("x")), "XX000");
}

// Values users gave are echoed in messages whole up to 100 characters, cut beyond (at a UTF-8
// sequence boundary) with their length.
TEST(Echo, QuotesShortValuesAndCutsLongOnes) {
  EXPECT_EQ(echo("lk-nope"), "\"lk-nope\"");
  EXPECT_EQ(echo(std::string(100, 'x')), "\"" + std::string(100, 'x') + "\"");
  EXPECT_EQ(echo(std::string(12000, 'x')), "\"" + std::string(100, 'x') + "...\" (12000 characters)");
  std::string accents;
  for (int i = 0; i < 150; ++i) accents += "\xc3\xa9";  // é, two bytes each
  const std::string e = echo(accents);
  EXPECT_EQ(e.substr(0, 201), "\"" + accents.substr(0, 200));
  EXPECT_EQ(e.substr(201), "...\" (150 characters)");
  EXPECT_EQ(echo("[1, 2]", false), "[1, 2]");
  EXPECT_EQ(echo(std::string(101, '9'), false), std::string(100, '9') + "... (101 characters)");
}

TEST(SqlState, DetailAndHintAreKept) {
  UndefinedObject e("model \"m\" does not exist", "no versions", "train it first");
  EXPECT_STREQ(e.what(), "model \"m\" does not exist");
  EXPECT_EQ(e.detail(), "no versions");
  EXPECT_EQ(e.hint(), "train it first");
}

TEST(EigenAssert, DimensionMismatchThrows) {
  Eigen::MatrixXd a(2, 3), b(2, 3);
  a.setOnes();
  b.setOnes();
  EXPECT_THROW(
      {
        Eigen::MatrixXd c = a * b;
        (void)c;
      },
      InternalError);
  Eigen::VectorXd v(3);
  EXPECT_THROW((void)v(5), InternalError);
  // And a second failure in the same process throws again.
  EXPECT_THROW(
      {
        Eigen::MatrixXd c = b * a;
        (void)c;
      },
      InternalError);
}

// dlib's always-on checks (DLIB_CASSERT, used by its solvers and trainers) throw
// dlib::fatal_error; without DLIB_NO_ABORT_ON_2ND_FATAL_ERROR the second one in a process
// would call abort(). Three in a row must all throw.
void dlib_checked_op(long n) { DLIB_CASSERT(n > 0, "n must be positive, got " << n); }

TEST(DlibAssert, RepeatedFatalErrorsThrowInsteadOfAborting) {
  for (int i = 0; i < 3; ++i) {
    EXPECT_THROW(dlib_checked_op(-i), dlib::fatal_error) << "round " << i;
  }
  EXPECT_NO_THROW(dlib_checked_op(1));
}

}  // namespace
}  // namespace insight

namespace insight {
namespace {

// The one polling interval: a loop over rows polls on its first row and then every
// kPollEvery rows.
TEST(RowPoller, PollsEveryKPollEveryRows) {
  int polls = 0;
  const InterruptCheck count = [&polls] { ++polls; };
  RowPoller poller(count);
  for (uint64_t i = 0; i < 3 * kPollEvery + 1; ++i) poller.row();
  EXPECT_EQ(polls, 4);
  const InterruptCheck cancel = [] { throw std::runtime_error("cancelled"); };
  RowPoller stops(cancel);
  EXPECT_THROW(stops.row(), std::runtime_error);
}

}  // namespace
}  // namespace insight
