// A fake of the Collectives interface for tests: K threads of one process
// play K ranks. Sums and broadcasts go through shared memory in rank order
// (so every rank gets bitwise the same result, as MPI's ring all-reduce
// gives). Each rank's thread owns one ThreadCollectives; all share a Hub.
#pragma once

#include <condition_variable>
#include <functional>
#include <mutex>
#include <thread>
#include <vector>

#include <torch/torch.h>

#include "engine/collectives.h"

namespace stylesweep {

class ThreadCollectivesHub {
 public:
  explicit ThreadCollectivesHub(int size) : size_(size), slots_(static_cast<size_t>(size)) {}
  int size() const { return size_; }

  // Every rank deposits `tensor`; once all have, `combine(all)` runs on each
  // rank's copy of the deposits and the rank leaves when every rank has read.
  void Exchange(int rank, const torch::Tensor& tensor, const std::function<void(const std::vector<torch::Tensor>&)>& use) {
    std::unique_lock<std::mutex> lock(mutex_);
    const long generation = generation_;
    slots_[static_cast<size_t>(rank)] = tensor.detach().clone();
    if (++arrived_ == size_) {
      arrived_ = 0;
      ready_ = slots_;
      readers_ = 0;
      ++generation_;
      changed_.notify_all();
    } else {
      changed_.wait(lock, [&] { return generation_ != generation; });
    }
    const std::vector<torch::Tensor> all = ready_;
    lock.unlock();
    use(all);
    lock.lock();
    // Nobody may deposit for the next exchange before everyone has read this one.
    if (++readers_ == size_) {
      ++read_generation_;
      changed_.notify_all();
    } else {
      const long read_generation = read_generation_;
      changed_.wait(lock, [&] { return read_generation_ != read_generation; });
    }
  }

 private:
  const int size_;
  std::mutex mutex_;
  std::condition_variable changed_;
  std::vector<torch::Tensor> slots_, ready_;
  int arrived_ = 0, readers_ = 0;
  long generation_ = 0, read_generation_ = 0;
};

class ThreadCollectives final : public Collectives {
 public:
  ThreadCollectives(ThreadCollectivesHub& hub, int rank) : hub_(hub), rank_(rank) {}
  int rank() const override { return rank_; }
  int size() const override { return hub_.size(); }
  std::string name() const override { return "threads"; }
  Status AllReduceSum(torch::Tensor& tensor) override {
    SS_RETURN_IF_ERROR(CheckDenseTensor(tensor, "AllReduceSum"));
    hub_.Exchange(rank_, tensor, [&](const std::vector<torch::Tensor>& all) {
      torch::Tensor sum = all[0].clone();
      for (size_t r = 1; r < all.size(); ++r) sum += all[r];
      tensor.copy_(sum);
    });
    return Status::Ok();
  }
  Status Broadcast(torch::Tensor& tensor, int root) override {
    SS_RETURN_IF_ERROR(CheckDenseTensor(tensor, "Broadcast"));
    hub_.Exchange(rank_, tensor, [&](const std::vector<torch::Tensor>& all) { tensor.copy_(all[static_cast<size_t>(root)]); });
    return Status::Ok();
  }
  Status Barrier() override {
    hub_.Exchange(rank_, torch::zeros({1}), [](const std::vector<torch::Tensor>&) {});
    return Status::Ok();
  }

 private:
  ThreadCollectivesHub& hub_;
  int rank_;
};

// Runs body(collectives) on `ranks` threads, one ThreadCollectives each.
inline void RunOnThreadRanks(int ranks, const std::function<void(Collectives&)>& body) {
  ThreadCollectivesHub hub(ranks);
  std::vector<std::thread> threads;
  for (int r = 0; r < ranks; ++r) {
    threads.emplace_back([&hub, &body, r] {
      ThreadCollectives collectives(hub, r);
      body(collectives);
    });
  }
  for (auto& t : threads) t.join();
}

}  // namespace stylesweep
