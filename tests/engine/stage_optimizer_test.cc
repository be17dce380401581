// The stage optimiser (engine/stage_optimizer.h) on batches of quadratics:
// both optimisers minimise each row on its own, and failures land on the
// job they belong to.
#include "engine/stage_optimizer.h"

#include <cmath>
#include <limits>

#include <gtest/gtest.h>
#include <torch/torch.h>

namespace stylesweep {
namespace {

// Row b: sum (x_b - c_b)^2 with centres c_0 = 3, c_1 = -2.
BatchObjective Quadratic(int* evaluations) {
  return [evaluations](const torch::Tensor& x, torch::Tensor& grad, const torch::Tensor&,
                       std::vector<Status>&) -> Result<torch::Tensor> {
    ++*evaluations;
    const torch::Tensor centre = torch::tensor({3.0, -2.0}, x.options()).view({2, 1});
    grad.copy_(2 * (x - centre));
    return (x - centre).pow(2).sum(1);
  };
}

TEST(StageOptimizer, LbfgsMinimisesEveryRowWithinTheBudget) {
  torch::Tensor x = torch::zeros({2, 5}, torch::kFloat64);
  int evaluations = 0, syncs = 0;
  StageOptimizerOptions options;
  options.num_iterations = 30;
  options.sync_every = 1;
  auto outcome = OptimizeStage(x, Quadratic(&evaluations), options, [&] {
    ++syncs;
    return Status::Ok();
  });
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_TRUE(outcome->all.ok());
  for (const Status& job : outcome->jobs) EXPECT_TRUE(job.ok()) << job.ToString();
  EXPECT_LE(evaluations, 30);
  EXPECT_GT(syncs, 0);
  EXPECT_NEAR(x[0][0].item<double>(), 3.0, 1e-6);
  EXPECT_NEAR(x[1][4].item<double>(), -2.0, 1e-6);
}

TEST(StageOptimizer, AdamRunsItsIterationsAndApproachesTheMinimum) {
  torch::Tensor x = torch::zeros({2, 5}, torch::kFloat64);
  int evaluations = 0, syncs = 0;
  StageOptimizerOptions options;
  options.optimizer = "adam";
  options.num_iterations = 200;
  options.learning_rate = 0.1;
  auto outcome = OptimizeStage(x, Quadratic(&evaluations), options, [&] {
    ++syncs;
    return Status::Ok();
  });
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(evaluations, 200);
  EXPECT_EQ(syncs, 200);
  EXPECT_NEAR(x[0][2].item<double>(), 3.0, 0.05);
  EXPECT_NEAR(x[1][2].item<double>(), -2.0, 0.05);
}

TEST(StageOptimizer, AdamNamesTheIterationWhereTheLossBecameNaN) {
  torch::Tensor x = torch::zeros({1, 3}, torch::kFloat64);
  int evaluations = 0;
  auto objective = [&](const torch::Tensor& at, torch::Tensor& grad, const torch::Tensor&,
                       std::vector<Status>&) -> Result<torch::Tensor> {
    grad.copy_(at);
    const double value = ++evaluations == 4 ? std::numeric_limits<double>::quiet_NaN() : 1.0;
    return torch::full({1}, value, torch::kFloat64);
  };
  StageOptimizerOptions options;
  options.optimizer = "adam";
  options.num_iterations = 10;
  options.iterations_before = 100;
  auto outcome = OptimizeStage(x, objective, options, nullptr);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(evaluations, 4);
  EXPECT_EQ(outcome->jobs[0].code(), StatusCode::kNumericalError);
  EXPECT_NE(outcome->jobs[0].message().find("at iteration 104"), std::string::npos) << outcome->jobs[0].ToString();
}

TEST(StageOptimizer, AJobErrorEndsThatJobOnly) {
  for (const std::string optimizer : {"lbfgs", "adam"}) {
    torch::Tensor x = torch::zeros({2, 4}, torch::kFloat64);
    int evaluations = 0;
    const BatchObjective quadratic = Quadratic(&evaluations);
    auto objective = [&](const torch::Tensor& at, torch::Tensor& grad, const torch::Tensor& active,
                         std::vector<Status>& job_errors) -> Result<torch::Tensor> {
      if (evaluations == 1) job_errors[1] = Status::Cancelled("job 1 stopped");
      return quadratic(at, grad, active, job_errors);
    };
    StageOptimizerOptions options;
    options.optimizer = optimizer;
    options.num_iterations = 10;
    options.sync_every = 1;
    auto outcome = OptimizeStage(x, objective, options, nullptr);
    ASSERT_TRUE(outcome.ok()) << optimizer;
    EXPECT_TRUE(outcome->all.ok()) << optimizer;
    EXPECT_EQ(outcome->jobs[1].code(), StatusCode::kCancelled) << optimizer;
    if (optimizer == "lbfgs") {
      EXPECT_TRUE(outcome->jobs[0].ok()) << outcome->jobs[0].ToString();
    }
  }
}

TEST(StageOptimizer, ASyncFailureIsReturned) {
  torch::Tensor x = torch::zeros({2, 4}, torch::kFloat64);
  int evaluations = 0;
  StageOptimizerOptions options;
  options.num_iterations = 10;
  auto outcome = OptimizeStage(x, Quadratic(&evaluations), options, [] { return Status::Unavailable("lost"); });
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kUnavailable);
}

TEST(StageOptimizer, RefusesAnUnknownOptimizer) {
  torch::Tensor x = torch::zeros({1, 2});
  int evaluations = 0;
  StageOptimizerOptions options;
  options.optimizer = "sgd";
  auto outcome = OptimizeStage(x, Quadratic(&evaluations), options, nullptr);
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(evaluations, 0);
}

}  // namespace
}  // namespace stylesweep

namespace stylesweep {
namespace {

// Both optimisers keep a bounded stage's x inside the box: the quadratic's
// minima, 3 and -2, lie outside [0, 1], so each row ends on the nearer edge.
TEST(StageOptimizer, BoundedStagesStayInTheBox) {
  for (const std::string optimizer : {"lbfgs", "adam"}) {
    torch::Tensor x = torch::full({2, 5}, 0.5, torch::kFloat64);
    int evaluations = 0;
    StageOptimizerOptions options;
    options.optimizer = optimizer;
    options.num_iterations = 40;
    options.learning_rate = 0.5;
    options.bounded = true;
    options.lower_bound = 0.0;
    options.upper_bound = 1.0;
    auto outcome = OptimizeStage(x, Quadratic(&evaluations), options, nullptr);
    ASSERT_TRUE(outcome.ok()) << optimizer;
    EXPECT_NEAR(x[0][0].item<double>(), 1.0, 1e-6) << optimizer;
    EXPECT_NEAR(x[1][0].item<double>(), 0.0, 1e-6) << optimizer;
  }
}

// The band split and the batched engine both take their L-BFGS settings
// from StageOptionsFor and LbfgsOptionsFor: every run setting the optimiser
// reads must arrive, for the stage asked for.
TEST(StageOptimizer, StageOptionsCarryEveryOptimiserSettingOfTheRun) {
  StyleOptions o;
  o.scales = {{64, 11}, {128, 7}};
  o.lbfgs_history = 13;
  o.lbfgs_tolerance = 1e-4;
  o.stop_tolerance = 0.02;
  o.stop_window = 9;
  o.normalize_objective = false;
  o.learning_rate = 3.5;
  o.pixel_bounds = "project";
  const StageOptimizerOptions second = StageOptionsFor(o, 1);
  EXPECT_EQ(second.num_iterations, 7);
  EXPECT_EQ(StageOptionsFor(o, 0).num_iterations, 11);
  EXPECT_DOUBLE_EQ(second.learning_rate, 3.5);
  const LbfgsOptions lbfgs = LbfgsOptionsFor(second);
  EXPECT_EQ(lbfgs.max_evaluations, 7);
  EXPECT_EQ(lbfgs.history_size, 13);
  EXPECT_DOUBLE_EQ(lbfgs.tolerance_change, 1e-4);
  EXPECT_DOUBLE_EQ(lbfgs.stop_tolerance, 0.02);
  EXPECT_EQ(lbfgs.stop_window, 9);
  EXPECT_FALSE(lbfgs.normalize);
  EXPECT_DOUBLE_EQ(lbfgs.lower_bound, 0.0);
  EXPECT_DOUBLE_EQ(lbfgs.upper_bound, 255.0);

  o.pixel_bounds = "none";
  const LbfgsOptions unbounded = LbfgsOptionsFor(StageOptionsFor(o, 0));
  EXPECT_TRUE(std::isinf(unbounded.lower_bound) && unbounded.lower_bound < 0);
  EXPECT_TRUE(std::isinf(unbounded.upper_bound) && unbounded.upper_bound > 0);
}

}  // namespace
}  // namespace stylesweep
