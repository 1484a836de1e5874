import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { startLab } from './store/actions';
import { App } from './ui/App';
import './ui/styles.css';

// The engine Worker loads tfjs and starts its backend while React renders the first paint, not after it.
void startLab();

const root = document.getElementById('root');
if (!root) throw new Error('index.html has no #root element');
createRoot(root).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
