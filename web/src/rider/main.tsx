import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { LanguageProvider } from '../shared/i18n';
import '../shared/styles.css';
import { registerServiceWorker } from '../shared/pwa';
import './rider.css';
import { RiderApp } from './RiderApp';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LanguageProvider>
      <RiderApp />
    </LanguageProvider>
  </StrictMode>,
);

registerServiceWorker('/rider/');
