import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { LanguageProvider } from '../shared/i18n';
import '../shared/styles.css';
import { registerServiceWorker } from '../shared/pwa';
import './admin.css';
import { AdminApp } from './AdminApp';

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <LanguageProvider>
      <AdminApp />
    </LanguageProvider>
  </StrictMode>,
);

registerServiceWorker('/admin/');
