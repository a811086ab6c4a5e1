// Finding GigE Vision cameras: the device list and the camera a target names.
//
// Threads. ListDevices()/ResolveTarget() may run on any thread (a libuv worker for discover(), a
// camera thread for open()); Aravis keeps its device list in process-wide state, so every call
// that touches it holds ArvRegistryMutex().
#pragma once

#include <arv.h>

#include <mutex>
#include <string>
#include <vector>

#include "gige_types.h"

namespace bottle {

std::mutex& ArvRegistryMutex();

// Every camera Aravis finds (GigE Vision and others). With `read_user_ids`, each GigE Vision
// camera is briefly opened to read its user-defined name.
std::vector<GigeDeviceInfo> ListDevices(bool read_user_ids);

// The user-defined name of an open device: DeviceUserID, else the GigE Vision bootstrap register.
std::string ReadUserId(ArvDevice* device);

// The IP address to open for `target`; throws CAMERA_NOT_FOUND naming what was searched.
std::string ResolveTarget(const GigeTarget& target);

}  // namespace bottle
