# Native core of node-red-contrib-bottle-inspection: frame pool, inspection threads, the
# taught-reference method and GigE Vision acquisition. OpenCV and Aravis come from the system
# through pkg-config (opencv4, aravis-0.8).
{
  'targets': [
    {
      'target_name': 'bottle_inspection',
      'sources': [
        'native/src/addon.cc',
        'native/src/align.cc',
        'native/src/errors.cc',
        'native/src/frame_pool.cc',
        'native/src/pool_wrap.cc',
        'native/src/kernels.cc',
        'native/src/demosaic.cc',
        'native/src/reference.cc',
        'native/src/reference_wrap.cc',
        'native/src/inspector.cc',
        'native/src/inspector_wrap.cc',
        'native/src/teach_worker.cc',
        'native/src/gige_config.cc',
        'native/src/gige_discovery.cc',
        'native/src/gige_camera.cc',
        'native/src/gige_wrap.cc',
      ],
      'include_dirs': [
        "<!(node -p \"require('node-addon-api').include_dir\")",
        "<!@(pkg-config --cflags-only-I opencv4 | sed 's/-I//g')",
        "<!@(pkg-config --cflags-only-I aravis-0.8 | sed 's/-I//g')",
      ],
      # Only the OpenCV libraries the code calls end up as dependencies (--as-needed).
      'libraries': [ "<!@(pkg-config --libs opencv4)", "<!@(pkg-config --libs aravis-0.8)" ],
      'defines': [ 'NAPI_CPP_EXCEPTIONS', 'NAPI_VERSION=8' ],
      'cflags!': [ '-fno-exceptions', '-fno-rtti' ],
      'cflags_cc!': [ '-fno-exceptions', '-fno-rtti', '-std=gnu++17', '-std=gnu++14' ],
      'cflags_cc': [
        '-std=c++17', '-O3', '-fno-math-errno', '-fexceptions', '-frtti',
        '-Wall', '-Wextra', '-Wno-unused-parameter',
      ],
      'ldflags': [ '-pthread', '-Wl,--as-needed' ],
      'xcode_settings': {
        'GCC_ENABLE_CPP_EXCEPTIONS': 'YES',
        'CLANG_CXX_LANGUAGE_STANDARD': 'c++17',
        'OTHER_CFLAGS': [ "<!@(pkg-config --cflags opencv4)" ],
      },
    },
  ],
}
