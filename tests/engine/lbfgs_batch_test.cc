// MinimizeLbfgsBatch (engine/lbfgs_batch.h): each job of a batch follows the
// path MinimizeLbfgs takes alone, whatever the others do; stopped and failed
// jobs are frozen without disturbing the rest; how often the host reads the
// state does not change the result.
#include "engine/lbfgs_batch.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <limits>
#include <vector>

namespace stylesweep {
namespace {

constexpr int64_t kSize = 12;

// Job b: f_b(x) = 1/2 sum_i a_bi (x_i - m_bi)^2 + c_b sum_i (x_i - m_bi)^4,
// a_bi in 1..(b+2)*kSize: different conditioning and curvature per job.
struct Problem {
  torch::Tensor diagonal, minimum, quartic;  // [B, kSize], [B, kSize], [B]
  explicit Problem(int64_t batch) {
    auto rows = torch::arange(batch, torch::kFloat64).unsqueeze(1);
    diagonal = 1 + torch::arange(kSize, torch::kFloat64).unsqueeze(0) * (rows + 2);
    minimum = torch::linspace(-2, 2, kSize, torch::kFloat64).unsqueeze(0) * (rows + 1);
    quartic = 0.1 * (rows.squeeze(1) + 1);
  }
  // Loss of every row of x ([B, kSize]) and its gradient.
  torch::Tensor Evaluate(const torch::Tensor& x, torch::Tensor& grad) const {
    auto d = x - minimum;
    grad.copy_(diagonal * d + 4 * quartic.unsqueeze(1) * d.pow(3));
    return 0.5 * (diagonal * d * d).sum(1) + quartic * d.pow(4).sum(1);
  }
  // The same for job b alone, as MinimizeLbfgs wants it.
  Objective Single(int64_t b) const {
    return [this, b](const torch::Tensor& x, torch::Tensor& grad) -> Result<double> {
      auto d = x - minimum[b];
      grad.copy_(diagonal[b] * d + 4 * quartic[b] * d.pow(3));
      return (0.5 * (diagonal[b] * d * d).sum() + quartic[b] * d.pow(4).sum()).item<double>();
    };
  }
  BatchObjective Batch() const {
    return [this](const torch::Tensor& x, torch::Tensor& grad, const torch::Tensor&,
                  std::vector<Status>&) -> Result<torch::Tensor> { return Evaluate(x, grad); };
  }
};

BatchLbfgsOptions Options(int evaluations, int sync_every = 5) {
  BatchLbfgsOptions options;
  options.lbfgs.max_evaluations = evaluations;
  options.lbfgs.history_size = 5;
  options.sync_every = sync_every;
  return options;
}

TEST(LbfgsBatch, EachJobFollowsItsSingleRun) {
  Problem problem(3);
  auto x = torch::zeros({3, kSize}, torch::kFloat64);
  auto results = MinimizeLbfgsBatch(x, problem.Batch(), Options(40));
  ASSERT_TRUE(results.ok()) << results.status().ToString();
  for (int64_t b = 0; b < 3; ++b) {
    auto alone = torch::zeros({kSize}, torch::kFloat64);
    LbfgsOptions options = Options(40).lbfgs;
    auto single = MinimizeLbfgs(alone, problem.Single(b), options);
    ASSERT_TRUE(single.ok());
    ASSERT_TRUE((*results)[b].status.ok());
    EXPECT_EQ((*results)[b].outcome.evaluations, single->evaluations) << "job " << b;
    EXPECT_NEAR((*results)[b].outcome.final_loss, single->final_loss, 1e-9 * (1 + single->final_loss)) << "job " << b;
    EXPECT_LT((x[b] - alone).abs().max().item<double>(), 1e-8) << "job " << b;
    EXPECT_LT((x[b] - problem.minimum[b]).abs().max().item<double>(), 1e-3) << "job " << b << " converged";
  }
}

TEST(LbfgsBatch, HowOftenTheHostReadsTheStateDoesNotChangeTheResult) {
  Problem problem(2);
  auto every = torch::zeros({2, kSize}, torch::kFloat64);
  auto rarely = torch::zeros({2, kSize}, torch::kFloat64);
  auto a = MinimizeLbfgsBatch(every, problem.Batch(), Options(30, 1));
  auto b = MinimizeLbfgsBatch(rarely, problem.Batch(), Options(30, 11));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_TRUE(torch::equal(every, rarely));
  for (int j = 0; j < 2; ++j) EXPECT_EQ((*a)[j].outcome.evaluations, (*b)[j].outcome.evaluations);
}

// The two ways of reading the correction history (views on the host, copies
// gathered on the device) are the same arithmetic: the same path to the bit,
// in float64 and float32, with full and partly filled histories.
TEST(LbfgsBatch, HistoryReadsAgree) {
  for (auto dtype : {torch::kFloat64, torch::kFloat32}) {
    Problem problem(3);
    auto gathered = torch::zeros({3, kSize}, dtype);
    auto viewed = torch::zeros({3, kSize}, dtype);
    BatchLbfgsOptions gather = Options(40);
    gather.history_reads = HistoryReads::kGather;
    BatchLbfgsOptions views = Options(40);
    views.history_reads = HistoryReads::kViews;
    BatchObjective objective = [&](const torch::Tensor& x, torch::Tensor& grad, const torch::Tensor&,
                                   std::vector<Status>&) -> Result<torch::Tensor> {
      torch::Tensor grad64 = torch::zeros({3, kSize}, torch::kFloat64);
      torch::Tensor loss = problem.Evaluate(x.to(torch::kFloat64), grad64);
      grad.copy_(grad64);
      return loss;
    };
    auto a = MinimizeLbfgsBatch(gathered, objective, gather);
    auto b = MinimizeLbfgsBatch(viewed, objective, views);
    ASSERT_TRUE(a.ok() && b.ok());
    EXPECT_TRUE(torch::equal(gathered, viewed)) << dtype << ": " << (gathered - viewed).abs().max().item<double>();
    for (int j = 0; j < 3; ++j) {
      EXPECT_EQ((*a)[j].outcome.evaluations, (*b)[j].outcome.evaluations) << dtype << " job " << j;
      EXPECT_GT((*a)[j].outcome.evaluations, 5) << "the history of 5 pairs fills and wraps";
    }
  }
}

TEST(LbfgsBatch, AJobThatStopsEarlyIsFrozenWhileTheOthersGoOn) {
  // Job 0 starts at its minimum: its first step changes nothing and meets
  // the tolerance; job 1 needs the whole budget.
  Problem problem(2);
  auto x = torch::zeros({2, kSize}, torch::kFloat64);
  x[0].copy_(problem.minimum[0]);
  BatchLbfgsOptions options = Options(60, 4);
  options.lbfgs.tolerance_change = 1e-4;
  int calls = 0;
  BatchObjective counting = [&](const torch::Tensor& at, torch::Tensor& grad, const torch::Tensor& active,
                                std::vector<Status>& errors) -> Result<torch::Tensor> {
    ++calls;
    return problem.Batch()(at, grad, active, errors);
  };
  auto results = MinimizeLbfgsBatch(x, counting, options);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)[0].outcome.stop_reason, "tolerance");
  EXPECT_EQ((*results)[0].outcome.evaluations, 2);
  EXPECT_EQ((*results)[1].outcome.evaluations, 60);
  auto alone = problem.minimum[0].clone();
  auto single = MinimizeLbfgs(alone, problem.Single(0), options.lbfgs);
  ASSERT_TRUE(single.ok());
  EXPECT_EQ((*results)[0].outcome.evaluations, single->evaluations);
  EXPECT_LT((x[0] - alone).abs().max().item<double>(), 1e-10) << "job 0 stays where it stopped";
  EXPECT_GT((*results)[1].outcome.evaluations, (*results)[0].outcome.evaluations);
  EXPECT_LE(calls, 60);
}

TEST(LbfgsBatch, EachJobConvergesOnItsOwnAndTheBatchEndsWhenAllHave) {
  // Scripted losses with a constant gradient (every step accepted): job 0 is
  // on a plateau from the start, job 1 falls by 20 per evaluation until
  // evaluation 31 and then plateaus. Over a window of 10 at 1%, job 0 stops
  // at evaluation 11 and job 1 at 41; the batch then ends, long before its
  // budget of 200.
  auto x = torch::zeros({2, kSize}, torch::kFloat64);
  BatchLbfgsOptions options = Options(200, 4);
  options.lbfgs.stop_tolerance = 0.01;
  options.lbfgs.stop_window = 10;
  int calls = 0;
  BatchObjective scripted = [&](const torch::Tensor&, torch::Tensor& grad, const torch::Tensor&,
                                std::vector<Status>&) -> Result<torch::Tensor> {
    const int k = calls++;
    grad.fill_(1.0);
    const double plateau = 1000.0 * (1.0 - 1e-9 * k);
    const double falling = k <= 30 ? 1600.0 - 20.0 * k : 1000.0 * (1.0 - 1e-9 * (k - 30));
    return torch::tensor({plateau, falling}, torch::kFloat64);
  };
  auto results = MinimizeLbfgsBatch(x, scripted, options);
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)[0].outcome.stop_reason, "converged");
  EXPECT_EQ((*results)[0].outcome.evaluations, 11);
  EXPECT_EQ((*results)[1].outcome.stop_reason, "converged");
  EXPECT_EQ((*results)[1].outcome.evaluations, 41);
  EXPECT_GE(calls, 41);
  EXPECT_LT(calls, 41 + 4) << "the batch ends at the first host read after its last job converged";
}

TEST(LbfgsBatch, AJobWhoseLossTurnsNanFailsAlone) {
  // Job 1's loss is NaN everywhere but at the start: halving cannot help.
  Problem problem(2);
  auto x = torch::zeros({2, kSize}, torch::kFloat64);
  auto start = x.clone();
  BatchObjective objective = [&](const torch::Tensor& at, torch::Tensor& grad, const torch::Tensor&,
                                 std::vector<Status>&) -> Result<torch::Tensor> {
    auto loss = problem.Evaluate(at, grad);
    const bool moved = !torch::equal(at[1], start[1]);
    if (moved) loss[1] = std::numeric_limits<double>::quiet_NaN();
    return loss;
  };
  BatchLbfgsOptions options = Options(50, 3);
  auto results = MinimizeLbfgsBatch(x, objective, options);
  ASSERT_TRUE(results.ok());
  EXPECT_TRUE((*results)[0].status.ok());
  EXPECT_LT((x[0] - problem.minimum[0]).abs().max().item<double>(), 1e-3);
  EXPECT_EQ((*results)[1].status.code(), StatusCode::kNumericalError);
  EXPECT_NE((*results)[1].status.message().find("evaluation " + std::to_string(2 + options.lbfgs.max_backtracks)),
            std::string::npos)
      << (*results)[1].status.message();
  EXPECT_TRUE(torch::equal(x[1], start[1])) << "the failed job returns to its last good point";
}

TEST(LbfgsBatch, AJobEndedByTheObjectiveKeepsItsStatus) {
  Problem problem(3);
  auto x = torch::zeros({3, kSize}, torch::kFloat64);
  int calls = 0;
  BatchObjective objective = [&](const torch::Tensor& at, torch::Tensor& grad, const torch::Tensor& active,
                                 std::vector<Status>& errors) -> Result<torch::Tensor> {
    if (++calls == 6) errors[2] = Status::Cancelled("job 2 stopped");
    return problem.Batch()(at, grad, active, errors);
  };
  auto results = MinimizeLbfgsBatch(x, objective, Options(30));
  ASSERT_TRUE(results.ok());
  EXPECT_EQ((*results)[2].status.code(), StatusCode::kCancelled);
  for (int b = 0; b < 2; ++b) {
    ASSERT_TRUE((*results)[b].status.ok());
    EXPECT_EQ((*results)[b].outcome.evaluations, 30);
  }
}

TEST(LbfgsBatch, ObjectiveErrorEndsEveryJob) {
  Problem problem(2);
  auto x = torch::zeros({2, kSize}, torch::kFloat64);
  int calls = 0;
  BatchObjective objective = [&](const torch::Tensor& at, torch::Tensor& grad, const torch::Tensor& active,
                                 std::vector<Status>& errors) -> Result<torch::Tensor> {
    if (++calls == 3) return Status::OutOfMemory("no memory");
    return problem.Batch()(at, grad, active, errors);
  };
  auto results = MinimizeLbfgsBatch(x, objective, Options(30));
  ASSERT_FALSE(results.ok());
  EXPECT_EQ(results.status().code(), StatusCode::kOutOfMemory);
  EXPECT_EQ(calls, 3);
}

}  // namespace
}  // namespace stylesweep
