import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { App } from './app.tsx';
import './styles.css';
import { installStyleNonce } from './style-nonce.ts';

// Before anything renders: xterm.js's <style> elements need the page's nonce (docs/adr/0011).
installStyleNonce();

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
