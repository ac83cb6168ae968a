import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { LanguageProvider } from '../shared/i18n';
import '../shared/styles.css';
import { registerServiceWorker } from '../shared/pwa';
import './customer.css';
import { CustomerApp } from './CustomerApp';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LanguageProvider>
      <CustomerApp />
    </LanguageProvider>
  </StrictMode>,
);

registerServiceWorker('/');
