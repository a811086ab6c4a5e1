// The parts of node-red-node-test-helper the tests use; the package ships no typings of its own.
declare module 'node-red-node-test-helper' {
  interface TestNode {
    id: string;
    receive(msg: Record<string, unknown>): void;
    on(event: string, fn: (...args: never[]) => void): void;
  }
  const helper: {
    init(nodeRedPath: string, settings?: Record<string, unknown>): void;
    load(nodes: unknown, flow: unknown[], credentials?: Record<string, unknown>): Promise<void>;
    unload(): Promise<void>;
    getNode(id: string): TestNode;
    startServer(done: () => void): void;
    stopServer(done: () => void): void;
    settings(s: Record<string, unknown>): Record<string, unknown>;
  };
  export = helper;
}
