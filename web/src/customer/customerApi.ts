import { Api } from '../shared/api';

/** The customer panel's API client (one per page; the tests reach it as window.__brigadeApi). */
export const api = new Api('customer');
(window as any).__brigadeApi = api;
