// Translation-only alignment of a grey image to a fixed target.
//
// Immutable after construction: one Aligner per reference is shared by every inspection thread;
// ShiftOf() works in its own local buffers.
#pragma once

#include <opencv2/core.hpp>

namespace bottle {

class Aligner {
 public:
  Aligner() = default;
  // `target` is CV_32FC1. Precomputes its window and spectrum.
  explicit Aligner(const cv::Mat& target);

  // How far `grey` (same size as the target) is displaced from the target, in pixels, searched
  // within ±max_px on each axis. (0, 0) when max_px is 0.
  cv::Point2d ShiftOf(const cv::Mat& grey, double max_px) const;

 private:
  cv::Mat Spectrum(const cv::Mat& grey) const;

  int factor_ = 1;  // the correlation runs at 1/factor_ of the working resolution
  cv::Size size_;   // of the reduced images
  cv::Size padded_;
  cv::Mat window_;
  cv::Mat target_spectrum_;
};

}  // namespace bottle
