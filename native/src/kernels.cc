#include "kernels.h"

#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <string>
#include <vector>

#include "failure.h"

namespace bottle {

namespace {

// Method constants. They are part of what a reference means, so the ones that shape the model
// are copied into MethodSettings and saved with it.
constexpr float kBlurSigma = 1.0f;        // working pixels
constexpr float kSpreadFloor = 2.0f;      // Lab / lightness units (L runs 0..100)
constexpr float kEdgeTolerance = 0.7f;    // working pixels of edge movement tolerated
constexpr int kSpreadDilate = 1;          // max filter radius on the spread
constexpr double kTeachMaxShift = 0.1;    // fraction of the working width
constexpr int kAlignPasses = 3;           // first image, then the running mean twice
constexpr double kCandidateRatio = 0.5;   // blobs are grown where z > threshold * this
constexpr int kOpenRadius = 1;            // morphological opening of the candidate mask
constexpr size_t kMaxDefects = 32;

struct Prepared {
  cv::Mat features;  // CV_32FC(channels): Lab for colour, lightness 0..100 for grey
  cv::Mat grey;      // CV_32FC1: lightness, used for alignment
};

// Averages f×f blocks of 8-bit pixels into floats 0..1: the bulk of an area downscale, done in
// one pass over the frame (OpenCV's INTER_AREA takes several times longer for a non-power-of-two
// ratio). Rows are summed first into 16-bit sums (contiguous, vectorises well; f ≤ 257 keeps
// them below 65536), then each block of columns. The last width % f columns and height % f rows
// are left out.
template <int kChannels>
void BoxAverageRows(const cv::Mat& src, int f, cv::Mat& out) {
  const int out_w = out.cols;
  const int row_values = out_w * f * kChannels;
  std::vector<uint16_t> column_sums(row_values);
  const float scale = 1.0f / (255.0f * f * f);
  for (int oy = 0; oy < out.rows; ++oy) {
    uint16_t* sums = column_sums.data();
    const uint8_t* first = src.ptr<uint8_t>(oy * f);
    for (int i = 0; i < row_values; ++i) sums[i] = first[i];
    for (int r = 1; r < f; ++r) {
      const uint8_t* row = src.ptr<uint8_t>(oy * f + r);
      for (int i = 0; i < row_values; ++i) sums[i] = static_cast<uint16_t>(sums[i] + row[i]);
    }
    float* o = out.ptr<float>(oy);
    for (int ox = 0; ox < out_w; ++ox) {
      const uint16_t* block = sums + static_cast<size_t>(ox) * f * kChannels;
      uint32_t total[kChannels] = {};
      for (int j = 0; j < f; ++j) {
        for (int k = 0; k < kChannels; ++k) total[k] += block[j * kChannels + k];
      }
      for (int k = 0; k < kChannels; ++k) {
        o[ox * kChannels + k] = static_cast<float>(total[k]) * scale;
      }
    }
  }
}

cv::Mat BoxAverage(const cv::Mat& src, int f) {
  cv::Mat out(src.rows / f, src.cols / f, CV_32FC(src.channels()));
  if (src.channels() == 3) {
    BoxAverageRows<3>(src, f, out);
  } else {
    BoxAverageRows<1>(src, f, out);
  }
  return out;
}

Prepared Prepare(const ImageView& image, const MethodSettings& s) {
  cv::Mat src(image.height, image.width, CV_8UC(image.channels),
              const_cast<uint8_t*>(image.pixels));
  const cv::Size work(s.work_width, s.work_height);
  // Area downscale in two steps: whole f×f blocks first, then the small remainder of the ratio.
  const int f = std::clamp(std::min(image.width / work.width, image.height / work.height), 1, 257);
  cv::Mat unit;  // CV_32FC(channels), 0..1
  if (f > 1) {
    unit = BoxAverage(src, f);
  } else {
    src.convertTo(unit, CV_32F, 1.0 / 255.0);
  }
  // After whole blocks the remaining ratio is below 2:1 (often a few percent), where bilinear
  // sampling is as good as area averaging and several times cheaper.
  if (unit.size() != work) {
    cv::resize(unit, unit, work, 0, 0, f > 1 ? cv::INTER_LINEAR : cv::INTER_AREA);
  }

  Prepared p;
  if (image.channels == 3) {
    cv::cvtColor(unit, p.features, cv::COLOR_RGB2Lab);
  } else {
    p.features = unit * 100.0;
  }
  if (s.blur_sigma > 0) {
    cv::GaussianBlur(p.features, p.features, cv::Size(0, 0), s.blur_sigma, 0,
                     cv::BORDER_REPLICATE);
  }
  if (image.channels == 3) {
    cv::extractChannel(p.features, p.grey, 0);
  } else {
    p.grey = p.features;
  }
  return p;
}

// Moves `image` back by `shift`: out(p) = image(p + shift).
cv::Mat Unshift(const cv::Mat& image, cv::Point2d shift) {
  if (std::abs(shift.x) < 0.01 && std::abs(shift.y) < 0.01) return image;
  cv::Mat m = (cv::Mat_<double>(2, 3) << 1, 0, shift.x, 0, 1, shift.y);
  cv::Mat out;
  cv::warpAffine(image, out, m, image.size(), cv::INTER_LINEAR | cv::WARP_INVERSE_MAP,
                 cv::BORDER_REPLICATE);
  return out;
}

// z(p) = max over channels of |x - mean| / spread.
cv::Mat AnomalyMap(const cv::Mat& features, const cv::Mat& mean, const cv::Mat& spread) {
  const int channels = features.channels();
  const int row_values = features.cols * channels;
  cv::Mat z(features.size(), CV_32F);
  for (int y = 0; y < features.rows; ++y) {
    const float* f = features.ptr<float>(y);
    const float* m = mean.ptr<float>(y);
    const float* s = spread.ptr<float>(y);
    float* out = z.ptr<float>(y);
    for (int i = 0, x = 0; i < row_values; i += channels, ++x) {
      float worst = 0;
      for (int k = 0; k < channels; ++k) {
        worst = std::max(worst, std::abs(f[i + k] - m[i + k]) / s[i + k]);
      }
      out[x] = worst;
    }
  }
  return z;
}

}  // namespace

cv::Size WorkSizeFor(int width, int height, int work_size) {
  const int longer = std::max(width, height);
  const double scale = std::min(1.0, static_cast<double>(work_size) / longer);
  return {std::max(8, static_cast<int>(std::lround(width * scale))),
          std::max(8, static_cast<int>(std::lround(height * scale)))};
}

std::shared_ptr<const ReferenceModel> TeachReference(const std::vector<ImageView>& images,
                                                     int work_size) {
  if (images.empty()) throw NativeFailure(code::kInvalidInput, "no images to teach from");
  const ImageView& first = images.front();
  for (size_t i = 1; i < images.size(); ++i) {
    const ImageView& im = images[i];
    if (im.width != first.width || im.height != first.height || im.channels != first.channels) {
      throw NativeFailure(code::kSizeMismatch,
                          "teach image " + std::to_string(i) + " is " + std::to_string(im.width) +
                              "x" + std::to_string(im.height) + "x" + std::to_string(im.channels) +
                              ", the first is " + std::to_string(first.width) + "x" +
                              std::to_string(first.height) + "x" + std::to_string(first.channels));
    }
  }

  auto model = std::make_shared<ReferenceModel>();
  model->width = first.width;
  model->height = first.height;
  model->channels = first.channels;
  model->image_count = static_cast<uint32_t>(images.size());
  MethodSettings& s = model->settings;
  const cv::Size work = WorkSizeFor(first.width, first.height, work_size);
  s.work_width = work.width;
  s.work_height = work.height;
  s.blur_sigma = kBlurSigma;
  s.spread_floor = kSpreadFloor;
  s.edge_tolerance = kEdgeTolerance;
  s.spread_dilate = kSpreadDilate;

  std::vector<Prepared> prepared;
  prepared.reserve(images.size());
  for (const ImageView& im : images) prepared.push_back(Prepare(im, s));

  // Align every image to a target that improves each pass: the first image, then the mean.
  const double max_px = kTeachMaxShift * s.work_width;
  const double n = static_cast<double>(prepared.size());
  std::vector<cv::Point2d> shifts(prepared.size());
  cv::Mat target = prepared.front().grey.clone();
  for (int pass = 0; pass < kAlignPasses; ++pass) {
    const Aligner aligner(target);
    cv::Mat sum = cv::Mat::zeros(work, CV_64F);
    for (size_t i = 0; i < prepared.size(); ++i) {
      shifts[i] = aligner.ShiftOf(prepared[i].grey, max_px);
      cv::accumulate(Unshift(prepared[i].grey, shifts[i]), sum);
    }
    sum.convertTo(target, CV_32F, 1.0 / n);
  }

  // Per-pixel mean and spread of the aligned features.
  const int type64 = CV_64FC(first.channels);
  cv::Mat sum = cv::Mat::zeros(work, type64), sum_sq = cv::Mat::zeros(work, type64);
  for (size_t i = 0; i < prepared.size(); ++i) {
    cv::Mat aligned = Unshift(prepared[i].features, shifts[i]);
    cv::accumulate(aligned, sum);
    cv::accumulateSquare(aligned, sum_sq);
  }
  cv::Mat mean64 = sum / n;
  cv::Mat variance = sum_sq / n - mean64.mul(mean64);
  variance = cv::max(variance, 0.0);
  if (n > 1) variance *= n / (n - 1);
  mean64.convertTo(model->mean, CV_32F);

  // spread² = variance + floor² + (edge tolerance × gradient of the mean)²: an edge that moves a
  // fraction of a pixel changes the value by about gradient × movement, which is not a defect.
  cv::Mat grad_x, grad_y;
  cv::Sobel(model->mean, grad_x, CV_32F, 1, 0, 3, 1.0 / 8, 0, cv::BORDER_REPLICATE);
  cv::Sobel(model->mean, grad_y, CV_32F, 0, 1, 3, 1.0 / 8, 0, cv::BORDER_REPLICATE);
  cv::Mat edge = grad_x.mul(grad_x) + grad_y.mul(grad_y);
  edge *= static_cast<double>(s.edge_tolerance) * s.edge_tolerance;
  cv::Mat variance32;
  variance.convertTo(variance32, CV_32F);
  cv::Mat spread_sq = variance32 + edge + cv::Scalar::all(s.spread_floor * s.spread_floor);
  cv::sqrt(spread_sq, model->spread);
  if (s.spread_dilate > 0) {
    const int k = 2 * s.spread_dilate + 1;
    cv::dilate(model->spread, model->spread,
               cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
  }

  cv::extractChannel(model->mean, model->mean_grey, 0);
  FinishReference(model.get());
  return model;
}

// Severity and confidence of a blob (z in spreads of the reference, T the threshold):
//   candidates are 8-connected regions where z > T/2, opened by a 3×3 square;
//   severity   = clamp(mean z of the blob / (2T), 0, 1), so a blob whose mean just reaches the
//                threshold has severity 0.5 and one at twice the threshold has 1;
//   confidence = 1 − 2^(−(area / minArea) × (peak z / T)), so a blob exactly of the minimum area
//                whose peak reaches the threshold has confidence 0.5, and more area or a higher
//                peak raise it towards 1.
// With the default decision (sensitivity 0.5, minimum confidence 0.5) a blob counts when its mean
// z reaches T and its area × peak reaches minArea × T.
InspectOutcome InspectImage(const ReferenceModel& reference, const ImageView& frame,
                            const InspectSettings& settings) {
  const MethodSettings& s = reference.settings;
  const double threshold = settings.threshold;
  Prepared p = Prepare(frame, s);
  const cv::Point2d shift = reference.aligner.ShiftOf(p.grey, settings.max_shift * s.work_width);
  const cv::Mat z = AnomalyMap(Unshift(p.features, shift), reference.mean, reference.spread);

  InspectOutcome outcome;
  double peak = 0;
  cv::minMaxLoc(z, nullptr, &peak);
  outcome.score = peak / threshold;

  const double candidate = threshold * kCandidateRatio;
  cv::Mat mask = z > candidate;
  if (kOpenRadius > 0) {
    const int k = 2 * kOpenRadius + 1;
    cv::morphologyEx(mask, mask, cv::MORPH_OPEN,
                     cv::getStructuringElement(cv::MORPH_RECT, cv::Size(k, k)));
  }
  cv::Mat labels, stats, centroids;
  const int count = cv::connectedComponentsWithStats(mask, labels, stats, centroids, 8, CV_32S);
  if (count <= 1) return outcome;

  std::vector<double> z_sum(count, 0.0), z_peak(count, 0.0);
  for (int y = 0; y < z.rows; ++y) {
    const int* l = labels.ptr<int>(y);
    const float* zr = z.ptr<float>(y);
    for (int x = 0; x < z.cols; ++x) {
      if (l[x] == 0) continue;
      z_sum[l[x]] += zr[x];
      z_peak[l[x]] = std::max(z_peak[l[x]], static_cast<double>(zr[x]));
    }
  }

  const double sx = static_cast<double>(reference.width) / s.work_width;
  const double sy = static_cast<double>(reference.height) / s.work_height;
  const double min_area_work = std::max(1.0, settings.min_area_px / (sx * sy));
  for (int label = 1; label < count; ++label) {
    const double area = stats.at<int>(label, cv::CC_STAT_AREA);
    if (area < min_area_work) continue;
    DefectBox d;
    const double mean_z = z_sum[label] / area;
    d.severity = std::clamp(mean_z / (2 * threshold), 0.0, 1.0);
    const double evidence = (area / min_area_work) * (z_peak[label] / threshold);
    d.confidence = std::clamp(1.0 - std::exp2(-evidence), 0.0, 1.0);
    // The blob is in reference coordinates; the frame is displaced from it by `shift`. The
    // rectangle is clamped to the frame and keeps at least one pixel.
    const double full_w = reference.width;
    const double full_h = reference.height;
    const double left = (stats.at<int>(label, cv::CC_STAT_LEFT) + shift.x) * sx;
    const double top = (stats.at<int>(label, cv::CC_STAT_TOP) + shift.y) * sy;
    const double right = left + stats.at<int>(label, cv::CC_STAT_WIDTH) * sx;
    const double bottom = top + stats.at<int>(label, cv::CC_STAT_HEIGHT) * sy;
    d.x = std::clamp(std::floor(left), 0.0, full_w - 1);
    d.y = std::clamp(std::floor(top), 0.0, full_h - 1);
    d.width = std::clamp(std::ceil(right), d.x + 1, full_w) - d.x;
    d.height = std::clamp(std::ceil(bottom), d.y + 1, full_h) - d.y;
    d.area_px = std::round(area * sx * sy);
    outcome.defects.push_back(d);
  }
  std::sort(outcome.defects.begin(), outcome.defects.end(),
            [](const DefectBox& a, const DefectBox& b) { return a.severity > b.severity; });
  if (outcome.defects.size() > kMaxDefects) outcome.defects.resize(kMaxDefects);
  return outcome;
}

}  // namespace bottle
