/** The agent listener: `/v1/agent/…` over mutual TLS, apart from the public API. */
export { createAgentListener, type AgentListener, type AgentListenerOptions } from './agent-listener.ts';
