#pragma once
// Internal to the statistics (tensorstats.h): the few numeric helpers the accumulators share.

#include <cmath>
#include <limits>

namespace graft {

inline constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
inline constexpr double kInfinity = std::numeric_limits<double>::infinity();

// std::isfinite as a comparison (false for NaN and ±inf), which vectorises; GCC turns
// std::isfinite into branches that stop the statistics loops from vectorising.
inline bool isFiniteValue(double v) { return std::fabs(v) <= std::numeric_limits<double>::max(); }

// d as tensorstats.h defines it: 0 where equal (equal infinities agree), else a − b.
inline double difference(double a, double b) { return a == b ? 0.0 : a - b; }

} // namespace graft
