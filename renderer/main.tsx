// Renderer entry: the Electron preload provides window.tfaudit; the web host's page builds
// the same contract over HTTP.
import { createRoot } from 'react-dom/client';
import type { TfauditApi } from '../shared/api.ts';
import { createHttpApi } from './api-client.ts';
import { App } from './App.tsx';
import { bindStore, createWorkbenchStore } from './store.ts';

declare global {
  interface Window {
    tfaudit?: TfauditApi;
  }
}

const api = window.tfaudit ?? createHttpApi();
bindStore(createWorkbenchStore(api));
createRoot(document.getElementById('root')!).render(<App />);
