// Aravis-facing helpers of the GigE camera: applying features and reading back what the camera
// accepted (finding cameras is in gige_discovery.h).
//
// Threads. The functions taking an ArvCamera run only on the thread that owns that camera (see
// gige_camera.h). Failures are NativeFailure with a code from
// gige_types.h and a message naming the feature, the value and what the camera allows.
#pragma once

#include <arv.h>

#include <string>
#include <vector>

#include "gige_types.h"

namespace bottle {

// Sets every requested feature (in an order cameras accept), then reads them all back.
// Throws INVALID_CONFIG before writing a value the camera does not allow.
GigeFields ApplyFeatures(ArvCamera* camera, const GigeFeatures& features);

// What the camera is set to now (the same names ApplyFeatures returns).
GigeFields ReadFeatures(ArvCamera* camera);

// Vendor, model, serial, user id, address and the interface MTU of an open camera.
GigeFields DescribeCamera(ArvCamera* camera);

// MTU of the local interface the camera is reached through; 0 when unknown.
int InterfaceMtu(ArvCamera* camera);

// Bytes per pixel of a pixel format (8 → 1, 16 → 2, 24 → 3); 0 for packed sub-byte formats.
int BytesPerPixel(uint32_t pixel_format);

}  // namespace bottle
