/**
 * The core of the bottle inspector, usable without Node-RED: a line with its frame pool, cameras,
 * inspection, per-bottle decisions, the reject path to the PLC and production statistics.
 */
export * from './frames/frame-ref';
export { FramePool } from './frames/frame-pool';
export * from './inspection/types';
export * from './inspection/images';
export * from './inspection/reference';
export * from './inspection/inspect-frame';
export * from './decision/decide';
export * from './decision/classifier';
export * from './tracking/tracker';
export * from './camera/source';
export { ReplaySource, type ReplayOptions } from './camera/replay';
export * from './line/line';
export * from './plc/types';
export { OpcUaLink } from './plc/opcua-link';
export { SimPlc } from './plc/sim-plc';
export * from './reject/reject-writer';
export * from './stats/stats';
export * from './util/clock';
export * from './util/errors';
