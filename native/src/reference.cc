// Reference file layout (version 1), all numbers little-endian:
//   "BIRF" magic, u16 version, u16 header bytes (the fixed header below, after these 8 bytes)
//   u32 width, height, channels, image count, work width, work height
//   f32 blur sigma, spread floor, edge tolerance; i32 spread dilate radius
//   u64 count of f32 values that follow: mean (w*h*c), spread (w*h*c), mean grey (w*h)
//   the f32 values, then u32 FNV-1a checksum of every byte before it.
#include "reference.h"

#include <opencv2/imgproc.hpp>

#include <cstring>
#include <string>

#include "failure.h"

namespace bottle {

namespace {

constexpr char kMagic[4] = {'B', 'I', 'R', 'F'};
constexpr uint16_t kVersion = 1;
constexpr uint16_t kHeaderBytes = 6 * 4 + 4 * 4 + 8;
constexpr int kMaxWorkSide = 4096;
constexpr int kMaxFrameSide = 65535;

uint32_t Fnv1a(const uint8_t* data, size_t length) {
  uint32_t hash = 2166136261u;
  for (size_t i = 0; i < length; ++i) {
    hash ^= data[i];
    hash *= 16777619u;
  }
  return hash;
}

class Writer {
 public:
  void Bytes(const void* data, size_t n) {
    const auto* p = static_cast<const uint8_t*>(data);
    out_.insert(out_.end(), p, p + n);
  }
  void U16(uint16_t v) { Int(v, 2); }
  void U32(uint32_t v) { Int(v, 4); }
  void U64(uint64_t v) { Int(v, 8); }
  void F32(float v) {
    uint32_t bits;
    std::memcpy(&bits, &v, 4);
    U32(bits);
  }
  void Floats(const cv::Mat& m) {
    cv::Mat c = m.isContinuous() ? m : m.clone();
    const auto* p = c.ptr<float>();
    const size_t n = c.total() * c.channels();
    for (size_t i = 0; i < n; ++i) F32(p[i]);
  }
  std::vector<uint8_t>& out() { return out_; }

 private:
  void Int(uint64_t v, int n) {
    for (int i = 0; i < n; ++i) out_.push_back(static_cast<uint8_t>(v >> (8 * i)));
  }
  std::vector<uint8_t> out_;
};

class Reader {
 public:
  Reader(const uint8_t* data, size_t length) : data_(data), length_(length) {}
  uint64_t Int(int n) {
    Need(n);
    uint64_t v = 0;
    for (int i = 0; i < n; ++i) v |= static_cast<uint64_t>(data_[pos_ + i]) << (8 * i);
    pos_ += n;
    return v;
  }
  float F32() {
    const auto bits = static_cast<uint32_t>(Int(4));
    float v;
    std::memcpy(&v, &bits, 4);
    return v;
  }
  cv::Mat Floats(int rows, int cols, int channels) {
    cv::Mat m(rows, cols, CV_32FC(channels));
    auto* p = m.ptr<float>();
    const size_t n = m.total() * channels;
    for (size_t i = 0; i < n; ++i) p[i] = F32();
    return m;
  }
  size_t pos() const { return pos_; }

 private:
  void Need(size_t n) {
    if (pos_ + n > length_) {
      throw NativeFailure(code::kInvalidInput, "reference data is truncated at byte " +
                                                   std::to_string(pos_));
    }
  }
  const uint8_t* data_;
  size_t length_;
  size_t pos_ = 0;
};

[[noreturn]] void Invalid(const std::string& what) {
  throw NativeFailure(code::kInvalidInput, "not a valid reference: " + what);
}

}  // namespace

void FinishReference(ReferenceModel* model) {
  model->aligner = Aligner(model->mean_grey);
}

std::vector<uint8_t> SerializeReference(const ReferenceModel& model) {
  Writer w;
  w.Bytes(kMagic, 4);
  w.U16(kVersion);
  w.U16(kHeaderBytes);
  w.U32(model.width);
  w.U32(model.height);
  w.U32(model.channels);
  w.U32(model.image_count);
  w.U32(model.settings.work_width);
  w.U32(model.settings.work_height);
  w.F32(model.settings.blur_sigma);
  w.F32(model.settings.spread_floor);
  w.F32(model.settings.edge_tolerance);
  w.U32(static_cast<uint32_t>(model.settings.spread_dilate));
  const uint64_t plane = static_cast<uint64_t>(model.settings.work_width) *
                         model.settings.work_height;
  w.U64(plane * model.channels * 2 + plane);
  w.Floats(model.mean);
  w.Floats(model.spread);
  w.Floats(model.mean_grey);
  w.U32(Fnv1a(w.out().data(), w.out().size()));
  return std::move(w.out());
}

std::shared_ptr<const ReferenceModel> DeserializeReference(const uint8_t* data, size_t length) {
  if (length < 8 + kHeaderBytes + 4) Invalid("only " + std::to_string(length) + " bytes");
  if (std::memcmp(data, kMagic, 4) != 0) Invalid("the magic header BIRF is missing");
  Reader r(data, length);
  r.Int(4);
  const auto version = static_cast<uint16_t>(r.Int(2));
  if (version != kVersion) {
    Invalid("format version " + std::to_string(version) + ", this build reads version " +
            std::to_string(kVersion));
  }
  if (r.Int(2) != kHeaderBytes) Invalid("unexpected header size");

  const uint32_t stored_sum = static_cast<uint32_t>(data[length - 4]) |
                              static_cast<uint32_t>(data[length - 3]) << 8 |
                              static_cast<uint32_t>(data[length - 2]) << 16 |
                              static_cast<uint32_t>(data[length - 1]) << 24;
  if (Fnv1a(data, length - 4) != stored_sum) Invalid("checksum mismatch (data corrupted)");

  auto model = std::make_shared<ReferenceModel>();
  model->width = static_cast<int>(r.Int(4));
  model->height = static_cast<int>(r.Int(4));
  model->channels = static_cast<int>(r.Int(4));
  model->image_count = static_cast<uint32_t>(r.Int(4));
  MethodSettings& s = model->settings;
  s.work_width = static_cast<int>(r.Int(4));
  s.work_height = static_cast<int>(r.Int(4));
  s.blur_sigma = r.F32();
  s.spread_floor = r.F32();
  s.edge_tolerance = r.F32();
  s.spread_dilate = static_cast<int>(static_cast<int32_t>(r.Int(4)));

  if (model->width < 1 || model->width > kMaxFrameSide || model->height < 1 ||
      model->height > kMaxFrameSide) {
    Invalid("frame size out of range");
  }
  if (model->channels != 1 && model->channels != 3) Invalid("channels must be 1 or 3");
  if (s.work_width < 8 || s.work_width > kMaxWorkSide || s.work_height < 8 ||
      s.work_height > kMaxWorkSide) {
    Invalid("working size out of range");
  }
  if (!(s.spread_floor > 0) || s.spread_dilate < 0 || s.spread_dilate > 16) {
    Invalid("method settings out of range");
  }
  const uint64_t plane = static_cast<uint64_t>(s.work_width) * s.work_height;
  if (r.Int(8) != plane * model->channels * 2 + plane) Invalid("value count does not match size");
  if (length != r.pos() + (plane * model->channels * 2 + plane) * 4 + 4) {
    Invalid("length does not match the header");
  }
  model->mean = r.Floats(s.work_height, s.work_width, model->channels);
  model->spread = r.Floats(s.work_height, s.work_width, model->channels);
  model->mean_grey = r.Floats(s.work_height, s.work_width, 1);
  if (!cv::checkRange(model->spread, true, nullptr, 1e-6, 1e6) ||
      !cv::checkRange(model->mean, true, nullptr, -1e6, 1e6) ||
      !cv::checkRange(model->mean_grey, true, nullptr, -1e6, 1e6)) {
    Invalid("values out of range");
  }
  FinishReference(model.get());
  return model;
}

}  // namespace bottle
