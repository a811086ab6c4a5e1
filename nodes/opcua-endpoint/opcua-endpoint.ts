import { OpcUaLink } from '../../lib/plc/opcua-link';
import type { LinkState, PlcLink } from '../../lib/plc/types';
import { errorMessage } from '../../lib/util/errors';
import { str, type EndpointConfigNode } from '../shared/config';
import type { Node, NodeAPI, NodeDef } from '../shared/red';

/**
 * Config node for one OPC UA server (the PLC). It holds a single connection that all its users
 * share, opens it when the first user asks and closes it with the flow. The user name and password
 * are Node-RED credentials, so they are not exported with the flow.
 */
export = function register(RED: NodeAPI): void {
  function OpcUaEndpointNode(this: Node & EndpointConfigNode, def: NodeDef): void {
    RED.nodes.createNode(this, def);
    const users = new Set<Node>();
    let link: OpcUaLink;
    const mode = (str(def, 'securityMode', 'None') || 'None') as 'None' | 'Sign' | 'SignAndEncrypt';
    try {
      link = new OpcUaLink({
        endpointUrl: str(def, 'endpoint'),
        securityMode: mode,
        // A blank policy lets the link choose the usual one for the mode.
        securityPolicy: str(def, 'securityPolicy') || (mode === 'None' ? 'None' : undefined),
        username: this.credentials?.user || undefined,
        password: this.credentials?.password || undefined,
        reconnect: { initialDelayMs: 500, maxDelayMs: 5000 },
      });
    } catch (err) {
      this.problem = errorMessage(err);
      this.error(RED._('opcua-endpoint.errors.invalid', { reason: this.problem }));
      return;
    }

    let lastState: LinkState | undefined;
    link.on('state', (state: LinkState, detail?: string) => {
      if (state === lastState) return;
      lastState = state;
      if (state === 'connected') this.log(RED._('opcua-endpoint.log.connected', { endpoint: str(def, 'endpoint') }));
      else if (state === 'disconnected') this.warn(RED._('opcua-endpoint.log.disconnected', { endpoint: str(def, 'endpoint'), detail: detail ?? '' }));
    });

    let connecting = false;
    this.acquire = (user: Node): PlcLink => {
      users.add(user);
      if (!connecting) link.connect();
      connecting = true;
      return link;
    };
    this.release = (user: Node): void => {
      users.delete(user);
    };

    this.on('close', (_removed: boolean, done: () => void) => {
      users.clear();
      link.close().catch(() => undefined).finally(done);
    });
  }

  RED.nodes.registerType('opcua-endpoint', OpcUaEndpointNode, {
    credentials: { user: { type: 'text' }, password: { type: 'password' } },
  });
};
