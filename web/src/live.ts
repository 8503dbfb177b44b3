/**
 * Live updates: the event stream (GET /v1/events/stream, Server-Sent Events) through EventSource, which
 * sends the session cookie and resumes with Last-Event-ID by itself. Calls `onEvent` for each event.
 */
import { useEffect, useRef, useState } from 'react';

export interface LiveEvent {
  type: string;
  resource: { type: string; id: string };
  data: Record<string, unknown>;
}

export function useLiveEvents(onEvent: (event: LiveEvent) => void): 'live' | 'connecting' {
  const [state, setState] = useState<'live' | 'connecting'>('connecting');
  const handler = useRef(onEvent);
  handler.current = onEvent;
  useEffect(() => {
    const source = new EventSource('/v1/events/stream');
    source.onopen = () => setState('live');
    source.onerror = () => setState('connecting');
    source.onmessage = (message) => {
      try {
        handler.current(JSON.parse(message.data) as LiveEvent);
      } catch {
        // a malformed message: ignored
      }
    };
    return () => source.close();
  }, []);
  return state;
}
