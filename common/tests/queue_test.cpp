// queue_test.cpp: the intrusive queues and the timer heap.
#include <gtest/gtest.h>

#include <algorithm>
#include <random>
#include <vector>

#include "goro/common/gqueue.hpp"
#include "goro/common/timer_heap.hpp"

namespace {
using namespace goro::common;

struct item {
  int v = 0;
  item* link = nullptr;
};

TEST(GQueue, IsFifoWithPushFront) {
  item a{1}, b{2}, c{3}, d{4};
  gqueue<item, &item::link> q;
  EXPECT_TRUE(q.empty());
  q.push_back(&a);
  q.push_back(&b);
  q.push_front(&c);
  EXPECT_EQ(q.size(), 3u);
  EXPECT_EQ(q.pop(), &c);
  EXPECT_EQ(q.pop(), &a);
  gqueue<item, &item::link> other;
  other.push_back(&d);
  q.push_back_all(other);
  EXPECT_TRUE(other.empty());
  EXPECT_EQ(q.pop(), &b);
  EXPECT_EQ(q.pop(), &d);
  EXPECT_EQ(q.pop(), nullptr);
  EXPECT_EQ(q.size(), 0u);
}

TEST(GList, IsLifo) {
  item a{1}, b{2};
  glist<item, &item::link> l;
  l.push(&a);
  l.push(&b);
  EXPECT_EQ(l.pop(), &b);
  EXPECT_EQ(l.pop(), &a);
  EXPECT_EQ(l.pop(), nullptr);
}

TEST(TimerHeap, PopsInDeadlineOrder) {
  std::mt19937 rng(1);
  std::vector<item> items(1000);
  timer_heap<item> h;
  for (auto& it : items) {
    it.v = static_cast<int>(rng() % 500);
    h.add(it.v, &it);
  }
  int last = -1;
  while (!h.empty()) {
    auto e = h.pop();
    EXPECT_GE(e.when, last);
    EXPECT_EQ(e.when, e.what->v);
    last = static_cast<int>(e.when);
  }
}

}  // namespace
