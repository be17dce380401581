// MinimizeLbfgs (engine/lbfgs.h) on problems with known minima, and its
// contract: exact evaluation counting, tolerance 0 never stops early, NaN at
// the start is kNumericalError.
#include "engine/lbfgs.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <limits>

namespace stylesweep {
namespace {

// f(x) = 1/2 (x - b)^T A (x - b) with A = diag(1..n): condition number n.
struct Quadratic {
  torch::Tensor diagonal, minimum;
  explicit Quadratic(int64_t n) {
    diagonal = torch::arange(1, n + 1, torch::kFloat64);
    minimum = torch::linspace(-3, 3, n, torch::kFloat64);
  }
  Result<double> operator()(const torch::Tensor& x, torch::Tensor& grad) const {
    auto d = x - minimum;
    grad.copy_(diagonal * d);
    return 0.5 * (diagonal * d * d).sum().item<double>();
  }
};

// The N-D Rosenbrock function sum_i 100 (x_{i+1} - x_i^2)^2 + (1 - x_i)^2,
// minimum 0 at x = 1.
Result<double> Rosenbrock(const torch::Tensor& x, torch::Tensor& grad) {
  const int64_t n = x.numel();
  auto head = x.slice(0, 0, n - 1), tail = x.slice(0, 1, n);
  auto a = tail - head * head;
  auto b = 1 - head;
  grad.zero_();
  grad.slice(0, 0, n - 1).add_(-400 * head * a - 2 * b);
  grad.slice(0, 1, n).add_(200 * a);
  return (100 * a * a + b * b).sum().item<double>();
}

TEST(Lbfgs, MinimisesConvexQuadratic) {
  Quadratic f(50);
  auto x = torch::zeros({50}, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = 200;
  auto outcome = MinimizeLbfgs(x, f, options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_LT((x - f.minimum).abs().max().item<double>(), 1e-6);
  EXPECT_LT(outcome->final_loss, 1e-10);
  EXPECT_LE(outcome->evaluations, 200);
}

TEST(Lbfgs, MinimisesRosenbrockIn10D) {
  auto x = torch::full({10}, -1.0, torch::kFloat64);
  x[0] = -1.2;
  LbfgsOptions options;
  options.max_evaluations = 1000;
  options.history_size = 20;
  auto outcome = MinimizeLbfgs(x, Rosenbrock, options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_LT((x - 1).abs().max().item<double>(), 1e-4) << x;
  EXPECT_LT(outcome->final_loss, 1e-8);
}

TEST(Lbfgs, NeverExceedsTheEvaluationBudgetAndCountsExactly) {
  for (int budget : {1, 2, 3, 7, 25}) {
    int calls = 0;
    auto counting = [&](const torch::Tensor& x, torch::Tensor& grad) -> Result<double> {
      ++calls;
      return Rosenbrock(x, grad);
    };
    auto x = torch::full({6}, -1.5, torch::kFloat64);
    LbfgsOptions options;
    options.max_evaluations = budget;
    auto outcome = MinimizeLbfgs(x, counting, options);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(calls, outcome->evaluations) << "budget " << budget;
    EXPECT_EQ(calls, budget) << "Rosenbrock from -1.5 is far from converged: the whole budget is spent";
    EXPECT_EQ(outcome->stop_reason, "evaluation budget");
  }
}

TEST(Lbfgs, ToleranceZeroSpendsTheWholeBudget) {
  // A quadratic converges fast; with tolerance 0 the optimiser keeps going
  // (neural-style's setting) unless no step lowers the loss any more.
  Quadratic f(5);
  int calls = 0;
  auto counting = [&](const torch::Tensor& x, torch::Tensor& grad) -> Result<double> {
    ++calls;
    return f(x, grad);
  };
  auto x = torch::zeros({5}, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = 30;
  options.tolerance_change = 0.0;
  auto outcome = MinimizeLbfgs(x, counting, options);
  ASSERT_TRUE(outcome.ok());
  EXPECT_NE(outcome->stop_reason, "tolerance");
  EXPECT_GE(calls, 15);

  // A positive tolerance stops early once progress stalls.
  calls = 0;
  auto y = torch::zeros({5}, torch::kFloat64);
  options.tolerance_change = 1e-3;
  options.max_evaluations = 500;
  auto early = MinimizeLbfgs(y, counting, options);
  ASSERT_TRUE(early.ok());
  EXPECT_EQ(early->stop_reason, "tolerance");
  EXPECT_LT(calls, 500);
}

// A scripted loss: `drop` per evaluation for the first `steep` evaluations,
// then a plateau that still falls by 1e-9 of the loss per evaluation, with a
// constant gradient so that every step is a descent step and is accepted.
struct ScriptedPlateau {
  int steep = 30;
  double drop = 10.0;
  int calls = 0;
  Result<double> operator()(const torch::Tensor&, torch::Tensor& grad) {
    ++calls;
    grad.fill_(1.0);
    const int k = calls - 1;
    if (k <= steep) return 1000.0 - drop * k;
    return (1000.0 - drop * steep) * (1.0 - 1e-9 * (k - steep));
  }
};

Result<LbfgsOutcome> RunScripted(ScriptedPlateau& plateau, double stop_tolerance, int stop_window, int budget) {
  auto x = torch::zeros({4}, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = budget;
  options.stop_tolerance = stop_tolerance;
  options.stop_window = stop_window;
  return MinimizeLbfgs(x, [&](const torch::Tensor& at, torch::Tensor& grad) { return plateau(at, grad); }, options);
}

TEST(Lbfgs, StopToleranceStopsOneWindowIntoThePlateau) {
  // Evaluation e (1-based) sees loss f_e = 1000 - 10 (e - 1) up to e = 31
  // (f = 700), then the plateau. Over a window of 10 the improvement is 100
  // (> 1% of the loss) until the window starts at the plateau's first value:
  // at e = 41, f_31 - f_41 is 7e-6, below 1% of 700. At e = 40 it is still 10.
  ScriptedPlateau plateau;
  auto outcome = RunScripted(plateau, 0.01, 10, 500);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->stop_reason, "converged");
  EXPECT_EQ(outcome->evaluations, 41);
  EXPECT_EQ(plateau.calls, 41);
}

TEST(Lbfgs, StopToleranceNeverStopsBeforeTheWindowIsFull) {
  // A plateau from the first evaluation: the earliest stop is evaluation
  // window + 1, the first that has a loss `window` evaluations before it.
  for (int window : {1, 5, 12}) {
    ScriptedPlateau plateau;
    plateau.steep = 0;
    auto outcome = RunScripted(plateau, 0.01, window, 500);
    ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
    EXPECT_EQ(outcome->stop_reason, "converged") << "window " << window;
    EXPECT_EQ(outcome->evaluations, window + 1) << "window " << window;
  }
}

// Steady descent (10 per accepted step, over 1% of the loss) with a run of
// overshoots: evaluations 6 to 10 return a huge loss, so each is rejected and
// its step halved, and the best loss stands still for five evaluations.
struct ScriptedOvershoots {
  int calls = 0;
  int accepted = 0;
  Result<double> operator()(const torch::Tensor&, torch::Tensor& grad) {
    ++calls;
    grad.fill_(1.0);
    if (calls >= 6 && calls <= 10) return 1e9;
    return 1000.0 - 10.0 * accepted++;
  }
};

TEST(Lbfgs, StopToleranceCountsAcceptedStepsNotRejectedTrials) {
  // Counted in evaluations, the window 5..10 shows no improvement at all
  // (f stays 960) and the run would stop as converged at evaluation 10 while
  // it is only backtracking; counted in accepted steps every window of 5
  // improves by at least 50 (> 1% of the loss) and the budget ends the run.
  ScriptedOvershoots overshoots;
  auto x = torch::zeros({4}, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = 40;
  options.stop_tolerance = 0.01;
  options.stop_window = 5;
  auto outcome =
      MinimizeLbfgs(x, [&](const torch::Tensor& at, torch::Tensor& grad) { return overshoots(at, grad); }, options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->stop_reason, "evaluation budget");
  EXPECT_EQ(outcome->evaluations, 40);
  EXPECT_EQ(overshoots.accepted, 35);
}

TEST(Lbfgs, ADirectionNoHalvingRescuesRestartsFromSteepestDescent) {
  // f = |x|^2 / 2 from x = 10, but evaluations 4 to 12 overshoot (a huge
  // loss whatever the point): the step from the quasi-Newton direction is
  // halved 8 times (max_backtracks) and still rejected at evaluation 12.
  // That used to end the run as "no progress"; now the history is dropped,
  // steepest descent from the best point is accepted and the budget ends it.
  int calls = 0;
  auto quadratic_with_overshoots = [&](const torch::Tensor& at, torch::Tensor& grad) -> Result<double> {
    ++calls;
    grad.copy_(at);
    if (calls >= 4 && calls <= 12) return 1e12;
    return 0.5 * at.dot(at).item<double>();
  };
  auto x = torch::full({4}, 10.0, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = 30;
  auto outcome = MinimizeLbfgs(x, quadratic_with_overshoots, options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->stop_reason, "evaluation budget");
  EXPECT_EQ(outcome->evaluations, 30);
  EXPECT_LT(x.abs().max().item<double>(), 10.0);
}

TEST(Lbfgs, StopToleranceZeroSpendsTheWholeBudgetOnAPlateau) {
  ScriptedPlateau plateau;
  auto outcome = RunScripted(plateau, 0.0, 10, 80);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_EQ(outcome->stop_reason, "evaluation budget");
  EXPECT_EQ(outcome->evaluations, 80);
}

TEST(Lbfgs, NanAtTheStartIsNumericalError) {
  auto nan_objective = [](const torch::Tensor&, torch::Tensor& grad) -> Result<double> {
    grad.fill_(1.0);
    return std::numeric_limits<double>::quiet_NaN();
  };
  auto x = torch::zeros({4}, torch::kFloat64);
  auto outcome = MinimizeLbfgs(x, nan_objective, LbfgsOptions{});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kNumericalError);
  EXPECT_NE(outcome.status().message().find("NaN"), std::string::npos) << outcome.status().message();
}

TEST(Lbfgs, NanGradientAtTheStartIsNumericalError) {
  auto nan_gradient = [](const torch::Tensor&, torch::Tensor& grad) -> Result<double> {
    grad.fill_(std::numeric_limits<double>::infinity());
    return 1.0;
  };
  auto x = torch::zeros({4}, torch::kFloat64);
  auto outcome = MinimizeLbfgs(x, nan_gradient, LbfgsOptions{});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kNumericalError);
}

TEST(Lbfgs, ObjectiveErrorEndsTheRunWithThatStatus) {
  int calls = 0;
  auto cancelling = [&](const torch::Tensor& x, torch::Tensor& grad) -> Result<double> {
    if (++calls == 4) return Status::Cancelled("stop asked");
    return Rosenbrock(x, grad);
  };
  auto x = torch::zeros({3}, torch::kFloat64);
  auto outcome = MinimizeLbfgs(x, cancelling, LbfgsOptions{});
  ASSERT_FALSE(outcome.ok());
  EXPECT_EQ(outcome.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 4);
}

TEST(Lbfgs, RecoversFromALossThatTurnsNanAwayFromTheStart) {
  // Finite only for |x| < 2: a unit step from the start overshoots into NaN
  // and must be halved back into the domain.
  auto bounded = [](const torch::Tensor& x, torch::Tensor& grad) -> Result<double> {
    if (x.abs().max().item<double>() >= 2.0) {
      grad.fill_(std::numeric_limits<double>::quiet_NaN());
      return std::numeric_limits<double>::quiet_NaN();
    }
    grad.copy_(2 * (x - 1.5));
    return (x - 1.5).pow(2).sum().item<double>();
  };
  auto x = torch::full({3}, -1.9, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = 100;
  options.normalize = false;
  options.learning_rate = 1.0;
  auto outcome = MinimizeLbfgs(x, bounded, options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_LT((x - 1.5).abs().max().item<double>(), 1e-6);
}

TEST(Lbfgs, ZeroBudgetLeavesXUntouched) {
  auto x = torch::ones({3}, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = 0;
  auto outcome = MinimizeLbfgs(x, Rosenbrock, options);
  ASSERT_TRUE(outcome.ok());
  EXPECT_EQ(outcome->evaluations, 0);
  EXPECT_TRUE(torch::equal(x, torch::ones({3}, torch::kFloat64)));
}

}  // namespace
}  // namespace stylesweep

namespace stylesweep {
namespace {

// With a box, every point evaluated lies inside it and the run ends at the
// box's minimiser: the unconstrained minimum clipped per coordinate for
// this separable quadratic (minimum at -3..3 on 50 coordinates, box [-1, 2]).
TEST(Lbfgs, BoxKeepsEveryEvaluationInsideAndFindsTheConstrainedMinimum) {
  Quadratic f(50);
  auto x = torch::zeros({50}, torch::kFloat64);
  double lowest = 0, highest = 0;
  auto objective = [&](const torch::Tensor& at, torch::Tensor& grad) -> Result<double> {
    lowest = std::min(lowest, at.min().item<double>());
    highest = std::max(highest, at.max().item<double>());
    return f(at, grad);
  };
  LbfgsOptions options;
  options.max_evaluations = 200;
  options.lower_bound = -1.0;
  options.upper_bound = 2.0;
  auto outcome = MinimizeLbfgs(x, objective, options);
  ASSERT_TRUE(outcome.ok()) << outcome.status().ToString();
  EXPECT_GE(lowest, -1.0);
  EXPECT_LE(highest, 2.0);
  EXPECT_LT((x - f.minimum.clamp(-1.0, 2.0)).abs().max().item<double>(), 1e-6);
}

// Without a box the same run leaves it: the bounds are what keeps it inside.
TEST(Lbfgs, WithoutABoxTheSameRunLeavesIt) {
  Quadratic f(50);
  auto x = torch::zeros({50}, torch::kFloat64);
  LbfgsOptions options;
  options.max_evaluations = 200;
  ASSERT_TRUE(MinimizeLbfgs(x, f, options).ok());
  EXPECT_LT(x.min().item<double>(), -2.9);
}

}  // namespace
}  // namespace stylesweep
