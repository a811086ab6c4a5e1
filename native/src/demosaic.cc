#include "demosaic.h"

#include <opencv2/imgproc.hpp>

#include <cstring>

#include "failure.h"

namespace bottle {

namespace {

struct FormatInfo {
  RawFormat format;
  const char* name;
  int bytes_per_pixel;
  int channels;
};

constexpr FormatInfo kFormats[] = {
    {RawFormat::kMono8, "Mono8", 1, 1},       {RawFormat::kRgb8, "RGB8", 3, 3},
    {RawFormat::kMono16, "Mono16", 2, 1},     {RawFormat::kBayerRG8, "BayerRG8", 1, 3},
    {RawFormat::kBayerGB8, "BayerGB8", 1, 3}, {RawFormat::kBayerGR8, "BayerGR8", 1, 3},
    {RawFormat::kBayerBG8, "BayerBG8", 1, 3},
};

const FormatInfo& InfoOf(RawFormat format) {
  for (const FormatInfo& info : kFormats) {
    if (info.format == format) return info;
  }
  return kFormats[0];
}

// OpenCV names a Bayer pattern by the second row's second and third pixels, GenICam by the first
// row's first two, so the names are offset by one pixel diagonally: GenICam RG (R G / G B) is
// OpenCV's BG. Checked with synthetic flat-colour mosaics (test/pixel-formats.test.ts).
int BayerCode(RawFormat format) {
  switch (format) {
    case RawFormat::kBayerRG8: return cv::COLOR_BayerBG2RGB;
    case RawFormat::kBayerGB8: return cv::COLOR_BayerGR2RGB;
    case RawFormat::kBayerGR8: return cv::COLOR_BayerGB2RGB;
    case RawFormat::kBayerBG8: return cv::COLOR_BayerRG2RGB;
    default: return -1;
  }
}

}  // namespace

bool ParseRawFormat(const std::string& name, RawFormat* out) {
  for (const FormatInfo& info : kFormats) {
    if (name == info.name) {
      *out = info.format;
      return true;
    }
  }
  return false;
}

const char* RawFormatName(RawFormat format) { return InfoOf(format).name; }
int BytesPerPixel(RawFormat format) { return InfoOf(format).bytes_per_pixel; }
int InspectedChannels(RawFormat format) { return InfoOf(format).channels; }

cv::Mat ToInspectable(const uint8_t* pixels, int width, int height, RawFormat format) {
  auto* data = const_cast<uint8_t*>(pixels);  // the views below are only read
  switch (format) {
    case RawFormat::kMono8:
      return cv::Mat(height, width, CV_8UC1, data);
    case RawFormat::kRgb8:
      return cv::Mat(height, width, CV_8UC3, data);
    case RawFormat::kMono16: {
      // A fixed 1/256 (the high byte), not the frame's own maximum: a frame stretched to its own
      // range would hide a darker or brighter bottle, which is what the reference is there to see.
      // Little-endian: the high byte is the second of each pair.
      cv::Mat out(height, width, CV_8UC1);
      const size_t count = static_cast<size_t>(width) * static_cast<size_t>(height);
      uint8_t* o = out.ptr<uint8_t>();
      for (size_t i = 0; i < count; ++i) o[i] = pixels[2 * i + 1];
      return out;
    }
    case RawFormat::kBayerRG8:
    case RawFormat::kBayerGB8:
    case RawFormat::kBayerGR8:
    case RawFormat::kBayerBG8: {
      if (width < 2 || height < 2) {
        throw NativeFailure(code::kInvalidInput, "a Bayer frame must be at least 2x2 pixels");
      }
      const cv::Mat raw(height, width, CV_8UC1, data);
      cv::Mat out;
      cv::cvtColor(raw, out, BayerCode(format));
      return out;
    }
  }
  throw NativeFailure(code::kInvalidInput, "unknown pixel format");
}

}  // namespace bottle
