// Raw camera layouts the inspection accepts, and their conversion to the layouts the
// taught-reference method works on (packed RGB8 or Mono8).
//
// Plain C++ and OpenCV, no N-API: called on the inspection threads, before Prepare(), so the
// pool keeps frames exactly as the camera sent them and the main thread never touches pixels.
#pragma once

#include <opencv2/core.hpp>

#include <cstdint>
#include <string>

namespace bottle {

// Names follow GenICam PFNC (the names lib/frames/frame-ref.ts uses). Bayer patterns are named by
// the top-left 2x2 block of the sensor, read row by row: BayerRG8 is R G / G B.
enum class RawFormat {
  kMono8,
  kRgb8,
  kMono16,    // 2 bytes a pixel, little-endian (as GigE Vision sends it)
  kBayerRG8,  // 1 byte a pixel
  kBayerGB8,
  kBayerGR8,
  kBayerBG8,
};

// Parses a PFNC name; false for a name this code does not know.
bool ParseRawFormat(const std::string& name, RawFormat* out);
const char* RawFormatName(RawFormat format);
// Bytes one pixel takes in the pool.
int BytesPerPixel(RawFormat format);
// Channels of the image the inspection works on after conversion: 3 for colour, 1 for grey.
int InspectedChannels(RawFormat format);

// The frame as packed RGB8 (colour) or Mono8 (grey). Mono8 and RGB8 come back as a view of
// `pixels` without a copy; Bayer is demosaicked (bilinear, cv::cvtColor) and Mono16 scaled to
// 8 bits by 1/256 into a new matrix. `pixels` must hold width*height*BytesPerPixel(format) bytes.
cv::Mat ToInspectable(const uint8_t* pixels, int width, int height, RawFormat format);

}  // namespace bottle
