// A taught reference: what good bottles of one view look like at working scale.
//
// Immutable once built. Shared through std::shared_ptr<const ReferenceModel> by the JS wrapper
// (ReferenceWrap) and by every queued inspection job, so any thread may read it at the same time
// and a reference dropped by JavaScript stays alive until the last job using it ends.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "align.h"

namespace bottle {

// How images are reduced to features. Fixed at teach time and saved with the reference, so a
// saved reference is inspected exactly as it was taught even if the defaults change later.
struct MethodSettings {
  int work_width = 0;
  int work_height = 0;
  float blur_sigma = 0;         // Gaussian blur at working scale, in working pixels
  float spread_floor = 0;       // smallest spread per channel, in feature units
  float edge_tolerance = 0;     // working pixels of misalignment tolerated at edges
  int spread_dilate = 0;        // radius of the max filter applied to the spread
};

struct ReferenceModel {
  int width = 0;                // full-frame size and channels the reference accepts
  int height = 0;
  int channels = 0;
  uint32_t image_count = 0;     // good images it was taught from
  MethodSettings settings;
  cv::Mat mean;                 // CV_32FC(channels): per-pixel mean feature (Lab or grey)
  cv::Mat spread;               // CV_32FC(channels): per-pixel spread, floor and dilation applied
  cv::Mat mean_grey;            // CV_32FC1: mean lightness, the alignment target
  Aligner aligner;              // aligns frames to mean_grey (derived, not saved)
};

// Fills in the derived fields (aligner) after mean, spread and settings are set.
void FinishReference(ReferenceModel* model);

// Versioned little-endian binary format with a magic header and a checksum.
std::vector<uint8_t> SerializeReference(const ReferenceModel& model);

// Throws NativeFailure(INVALID_INPUT) naming what is wrong with the data.
std::shared_ptr<const ReferenceModel> DeserializeReference(const uint8_t* data, size_t length);

}  // namespace bottle
