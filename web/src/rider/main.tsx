import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import '../shared/styles.css';
import './rider.css';
import { RiderApp } from './RiderApp';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <RiderApp />
  </StrictMode>,
);
