// Cross-correlation in the frequency domain, with the cross-power spectrum partially whitened
// (divided by the square root of its magnitude). Full whitening, as in classic phase correlation,
// gives equal weight to every frequency, and against a taught mean image (smooth, little high
// frequency energy) it locks onto noise; plain correlation gives broad peaks. The square root keeps
// a sharp peak that stays on the structure. The peak is searched only within the allowed shift,
// then refined to sub-pixel by a parabola through its neighbours on each axis. The correlation runs
// at half the working resolution when that is still at least kMinSide pixels: a quarter of the
// cost, and the sub-pixel step keeps the estimate well inside the edge tolerance of the method.
#include "align.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>

namespace bottle {

namespace {
constexpr int kMinSide = 96;

cv::Mat Reduced(const cv::Mat& grey, int factor) {
  if (factor == 1) return grey;
  cv::Mat out;
  cv::resize(grey, out, cv::Size(grey.cols / factor, grey.rows / factor), 0, 0, cv::INTER_AREA);
  return out;
}

double ParabolaOffset(double left, double centre, double right) {
  const double denominator = left - 2 * centre + right;
  if (std::abs(denominator) < 1e-12) return 0;
  return std::clamp(0.5 * (left - right) / denominator, -0.5, 0.5);
}
}  // namespace

Aligner::Aligner(const cv::Mat& target)
    : factor_(std::min(target.cols, target.rows) >= 2 * kMinSide ? 2 : 1),
      size_(target.cols / factor_, target.rows / factor_) {
  padded_ = {cv::getOptimalDFTSize(size_.width), cv::getOptimalDFTSize(size_.height)};
  cv::createHanningWindow(window_, size_, CV_32F);
  target_spectrum_ = Spectrum(Reduced(target, factor_));
}

cv::Mat Aligner::Spectrum(const cv::Mat& grey) const {
  cv::Mat centred;
  cv::subtract(grey, cv::mean(grey), centred, cv::noArray(), CV_32F);
  centred = centred.mul(window_);
  cv::Mat padded;
  cv::copyMakeBorder(centred, padded, 0, padded_.height - size_.height, 0,
                     padded_.width - size_.width, cv::BORDER_CONSTANT, cv::Scalar(0));
  cv::Mat spectrum;
  cv::dft(padded, spectrum, cv::DFT_COMPLEX_OUTPUT);
  return spectrum;
}

cv::Point2d Aligner::ShiftOf(const cv::Mat& grey, double max_px) const {
  if (max_px <= 0 || target_spectrum_.empty()) return {0, 0};

  // Peak of sum_x target(x) * grey(x + d) is at d = displacement of grey.
  cv::Mat cross;
  cv::mulSpectrums(Spectrum(Reduced(grey, factor_)), target_spectrum_, cross, 0, /*conjB=*/true);
  // Divide by the square root of the magnitude: |c|^0.5 = sqrt(sqrt(re² + im²)).
  for (int y = 0; y < cross.rows; ++y) {
    float* c = cross.ptr<float>(y);
    for (int x = 0; x < 2 * cross.cols; x += 2) {
      const float scale = 1.0f / (std::sqrt(std::sqrt(c[x] * c[x] + c[x + 1] * c[x + 1])) + 1e-6f);
      c[x] *= scale;
      c[x + 1] *= scale;
    }
  }
  cv::Mat correlation;
  cv::idft(cross, correlation, cv::DFT_REAL_OUTPUT | cv::DFT_SCALE);

  const int w = correlation.cols;
  const int h = correlation.rows;
  const int limit_x = std::min(static_cast<int>(max_px / factor_), w / 2 - 1);
  const int limit_y = std::min(static_cast<int>(max_px / factor_), h / 2 - 1);
  auto at = [&](int dx, int dy) {
    return static_cast<double>(correlation.at<float>((dy + h) % h, (dx + w) % w));
  };
  int best_x = 0, best_y = 0;
  double best = at(0, 0);
  for (int dy = -limit_y; dy <= limit_y; ++dy) {
    for (int dx = -limit_x; dx <= limit_x; ++dx) {
      const double v = at(dx, dy);
      if (v > best) {
        best = v;
        best_x = dx;
        best_y = dy;
      }
    }
  }
  const double sub_x = ParabolaOffset(at(best_x - 1, best_y), best, at(best_x + 1, best_y));
  const double sub_y = ParabolaOffset(at(best_x, best_y - 1), best, at(best_x, best_y + 1));
  return {std::clamp((best_x + sub_x) * factor_, -max_px, max_px),
          std::clamp((best_y + sub_y) * factor_, -max_px, max_px)};
}

}  // namespace bottle
