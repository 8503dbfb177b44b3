/**
 * xterm.js and its stylesheet, loaded only when a serial console is opened (a separate chunk: the server
 * list does not pay for it).
 */
import { Terminal } from '@xterm/xterm';
import '@xterm/xterm/css/xterm.css';

export { Terminal };
