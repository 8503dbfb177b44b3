/**
 * A server's serial console in the browser: xterm.js over the console WebSocket, opened with a single-use
 * ticket (`POST /v1/servers/{id}/console`, as `vmcloud server console` does). Bytes both ways: what the
 * guest prints is written to the terminal; what is typed goes to the guest. Owners and members only (the
 * API's rule for tickets); a viewer sees a note.
 */
import { useEffect, useRef, useState } from 'react';
import { createConsoleTicket, type CurrentPrincipal, type Server } from '../../../src/contract/index.ts';
import { api } from '../api.ts';
import { ErrorNotice } from '../components.tsx';
import { useT } from '../i18n.tsx';

type State = 'idle' | 'connecting' | 'open' | 'closed';

/** `/v1/servers/…/console?ticket=…` → `ws(s)://this-host/v1/servers/…/console?ticket=…`. */
export function consoleSocketUrl(path: string, origin = window.location.origin): string {
  const url = new URL(path, origin);
  url.protocol = url.protocol === 'https:' ? 'wss:' : 'ws:';
  return url.toString();
}

export function SerialConsole({ me, server }: { me: CurrentPrincipal; server: Server }) {
  const { t } = useT();
  const [state, setState] = useState<State>('idle');
  const [error, setError] = useState<unknown>(null);
  const [closeReason, setCloseReason] = useState('');
  const screen = useRef<HTMLDivElement>(null);
  const session = useRef<{ close(): void } | null>(null);

  useEffect(() => () => session.current?.close(), []);

  const open = async () => {
    session.current?.close();
    setError(null);
    setCloseReason('');
    setState('connecting');
    try {
      const [{ Terminal }, ticket] = await Promise.all([
        import('../terminal.ts'),
        api.call(createConsoleTicket, { params: { id: server.id }, body: {} }),
      ]);
      const terminal = new Terminal({
        convertEol: false,
        cursorBlink: true,
        fontFamily: 'ui-monospace, SFMono-Regular, Menlo, Consolas, monospace',
        fontSize: 14,
        rows: 24,
        cols: 80,
        screenReaderMode: true,
      });
      terminal.open(screen.current!);
      const socket = new WebSocket(consoleSocketUrl(ticket.url));
      socket.binaryType = 'arraybuffer';
      const encoder = new TextEncoder();
      const typed = terminal.onData((data) => {
        if (socket.readyState === WebSocket.OPEN) socket.send(encoder.encode(data));
      });
      socket.onopen = () => {
        setState('open');
        terminal.focus();
        // A fresh line: the guest answers with its prompt.
        socket.send(encoder.encode('\r'));
      };
      socket.onmessage = (event) =>
        terminal.write(typeof event.data === 'string' ? event.data : new Uint8Array(event.data as ArrayBuffer));
      socket.onclose = (event) => {
        typed.dispose();
        setCloseReason(event.reason || String(event.code));
        setState('closed');
      };
      session.current = {
        close() {
          typed.dispose();
          socket.close(1000, 'closed in the console');
          terminal.dispose();
          session.current = null;
        },
      };
    } catch (failure) {
      setError(failure);
      setState('idle');
    }
  };

  const close = () => {
    session.current?.close();
    setState('idle');
  };

  return (
    <section aria-labelledby="serial-title">
      <h2 id="serial-title">{t('serialConsole')}</h2>
      {me.project.role === 'viewer' ? (
        <p className="muted">{t('serialViewerNote')}</p>
      ) : (
        <>
          <div className="row">
            {state === 'idle' || state === 'closed' ? (
              <button type="button" onClick={() => void open()} disabled={server.status === 'stopped'}>
                {t('openSerialConsole')}
              </button>
            ) : (
              <button type="button" onClick={close}>
                {t('closeSerialConsole')}
              </button>
            )}
            <span className="muted" aria-live="polite">
              {state === 'connecting'
                ? t('serialConnecting')
                : state === 'open'
                  ? t('serialOpen')
                  : state === 'closed'
                    ? t('serialClosed', { reason: closeReason })
                    : ''}
            </span>
          </div>
          <ErrorNotice error={error} />
          <div
            ref={screen}
            className="serial-screen"
            role="region"
            aria-label={t('serialConsole')}
            hidden={state === 'idle'}
          />
        </>
      )}
    </section>
  );
}
