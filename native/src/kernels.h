// The taught-reference method: image preparation, alignment, teaching and inspection.
//
// Plain C++ and OpenCV, no N-API: these functions run on inspection threads and on the teach
// worker. They read their inputs and allocate their own outputs; nothing is shared between calls
// except the immutable ReferenceModel.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <memory>
#include <vector>

#include "reference.h"

namespace bottle {

// One input image; the pixels belong to the caller and must outlive the call.
struct ImageView {
  const uint8_t* pixels = nullptr;
  int width = 0;
  int height = 0;
  int channels = 0;
};

struct InspectSettings {
  double threshold = 0;    // anomaly threshold, in spreads of the reference
  double min_area_px = 0;  // smallest blob reported, in full-frame pixels
  double max_shift = 0;    // largest alignment shift, as a fraction of the working width
};

struct DefectBox {
  double x = 0, y = 0, width = 0, height = 0;  // full-frame pixels
  double area_px = 0;                          // full-frame pixels
  double severity = 0;                         // 0..1
  double confidence = 0;                       // 0..1
};

struct InspectOutcome {
  std::vector<DefectBox> defects;
  double score = 0;  // peak anomaly in units of the threshold
};

// Working size whose longer side is `work_size`, keeping the aspect ratio.
cv::Size WorkSizeFor(int width, int height, int work_size);

// Builds a reference from good images that all have the same size and channels.
std::shared_ptr<const ReferenceModel> TeachReference(const std::vector<ImageView>& images,
                                                     int work_size);

// Scores one frame against the reference. The frame must have the reference's size.
InspectOutcome InspectImage(const ReferenceModel& reference, const ImageView& frame,
                            const InspectSettings& settings);

}  // namespace bottle
