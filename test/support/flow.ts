import path from 'node:path';

/** Ids the flows below use, so tests can find their nodes by a readable name. */
export const ID = {
  line: 'line-1', endpoint: 'plc-1', top: 'cam-top', side: 'cam-side', inspectTop: 'inspect-top',
  inspectSide: 'inspect-side', classify: 'classify-1', reject: 'reject-1', stats: 'stats-1',
  verdicts: 'out-verdicts', rejects: 'out-rejects', frames: 'out-frames', inspections: 'out-inspections', statsOut: 'out-stats',
} as const;

export interface FlowOptions {
  endpointUrl: string;
  lineOverrides?: Record<string, unknown>;
  cameraOverrides?: Record<string, unknown>;
  inspectOverrides?: Record<string, unknown>;
  classifyOverrides?: Record<string, unknown>;
}

/**
 * The samples that ship in the repository: a line replaying them has a known mix of bottles (in
 * every four, one with two good views), whether or not the larger shared image set is present.
 */
const images = path.resolve(__dirname, '..', '..', '..', 'examples', 'images');

/** The whole line: two replaying cameras, one inspect each, classify, reject-trigger and stats. */
export function lineFlow(o: FlowOptions): Record<string, unknown>[] {
  return [
    { id: ID.line, type: 'line', name: 'test line', positions: 'top,left', triggerRateHz: '20', maxBottles: '20',
      conveyorSpeedMps: '2', cameraToRejectMm: '1000', actuatorLeadMs: '30', poolSlots: '0', inspectionThreads: '0',
      ...o.lineOverrides },
    { id: ID.endpoint, type: 'opcua-endpoint', endpoint: o.endpointUrl, securityMode: 'None', securityPolicy: 'None' },
    { id: ID.top, type: 'gige-camera', line: ID.line, source: 'replay', position: 'top',
      folder: path.join(images, 'top_view'), wires: [[ID.inspectTop, ID.frames]], ...o.cameraOverrides },
    { id: ID.side, type: 'gige-camera', line: ID.line, source: 'replay', position: 'left',
      folder: path.join(images, 'side_view_juice'), wires: [[ID.inspectSide, ID.frames]] },
    { id: ID.inspectTop, type: 'inspect', line: ID.line, teachFolder: path.join(images, 'teach', 'top_view'),
      wires: [[ID.classify, ID.inspections]], ...o.inspectOverrides },
    { id: ID.inspectSide, type: 'inspect', line: ID.line, teachFolder: path.join(images, 'teach', 'side_view_juice'),
      wires: [[ID.classify, ID.inspections]] },
    { id: ID.classify, type: 'classify', line: ID.line, sensitivity: '0.5', minConfidence: '0.5', maxDefects: '0',
      viewTimeoutMs: '300', wires: [[ID.reject, ID.verdicts]], ...o.classifyOverrides },
    { id: ID.reject, type: 'reject-trigger', line: ID.line, endpoint: ID.endpoint, writeMarginMs: '5',
      heartbeatIntervalMs: '200', wires: [[ID.rejects]] },
    { id: ID.stats, type: 'stats', line: ID.line, intervalS: '0.2', wires: [[ID.statsOut]] },
    { id: ID.verdicts, type: 'helper' },
    { id: ID.rejects, type: 'helper' },
    { id: ID.frames, type: 'helper' },
    { id: ID.inspections, type: 'helper' },
    { id: ID.statsOut, type: 'helper' },
  ];
}
