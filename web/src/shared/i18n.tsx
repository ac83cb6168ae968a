// The panels' language: Korean or English, chosen from the browser's languages, switchable,
// remembered (localStorage, shared by the three panels of one origin).
//
// Messages are typed catalogs, one per panel plus shared/messages.ts: `const en = {...}` and
// `const ko: typeof en = {...}`, so the compiler refuses a Korean catalog that misses a key,
// has an extra one or takes other arguments. A component reads its catalog with
// `useMessages(catalog)`; code outside React (formatters, notifications) with
// `messagesNow(catalog)`. Dates, times and money go through Intl with `intlLocale()`.
import { createContext, useContext, useEffect, useState, type ReactNode } from 'react';

export type Lang = 'en' | 'ko';
export const LANGS: readonly Lang[] = ['en', 'ko'];
export const LANG_NAMES: Record<Lang, string> = { en: 'English', ko: '한국어' };

const STORAGE_KEY = 'brigade.lang';

/** The browser's first language that a panel speaks; English when none. */
export function detectLang(languages: readonly string[] = navigator.languages ?? [navigator.language]): Lang {
  for (const tag of languages) {
    const base = tag.toLowerCase().split('-')[0];
    if ((LANGS as readonly string[]).includes(base)) return base as Lang;
  }
  return 'en';
}

function initialLang(): Lang {
  try {
    const saved = localStorage.getItem(STORAGE_KEY);
    if (saved && (LANGS as readonly string[]).includes(saved)) return saved as Lang;
  } catch {
    /* storage blocked: follow the browser */
  }
  return detectLang();
}

let current: Lang = initialLang();
const listeners = new Set<(l: Lang) => void>();
applyToDocument(current);

function applyToDocument(l: Lang) {
  if (typeof document !== 'undefined') document.documentElement.lang = l;
}

/** The language now (for code outside React). */
export function currentLang(): Lang {
  return current;
}

/** Switches every mounted panel to `l` and remembers it. */
export function setLang(l: Lang) {
  if (l === current) return;
  current = l;
  try {
    localStorage.setItem(STORAGE_KEY, l);
  } catch {
    /* not remembered, still switched */
  }
  applyToDocument(l);
  listeners.forEach((fn) => fn(l));
}

/**
 * The BCP 47 locale for Intl: Korean is ko-KR; English keeps the browser's English region
 * (en-GB writes 19:40 and 1 Dec, en-US 7:40 PM and Dec 1).
 */
export function intlLocale(l: Lang = current): string {
  if (l === 'ko') return 'ko-KR';
  const english = (navigator.languages ?? [navigator.language]).find((t) => t.toLowerCase().startsWith('en'));
  return english ?? 'en';
}

export interface Catalog<M> {
  en: M;
  ko: M;
}

/** A catalog's messages in the current language, outside React. */
export function messagesNow<M>(catalog: Catalog<M>): M {
  return catalog[current];
}

const LangContext = createContext<Lang>(current);

/** Wraps a panel: its tree re-renders in the new language when it is switched. */
export function LanguageProvider({ children }: { children: ReactNode }) {
  const [lang, setLangState] = useState<Lang>(current);
  useEffect(() => {
    listeners.add(setLangState);
    setLangState(current);
    // Another tab of this origin switched: follow it.
    const onStorage = (e: StorageEvent) => {
      if (e.key === STORAGE_KEY && e.newValue && (LANGS as readonly string[]).includes(e.newValue)) setLang(e.newValue as Lang);
    };
    window.addEventListener('storage', onStorage);
    return () => {
      listeners.delete(setLangState);
      window.removeEventListener('storage', onStorage);
    };
  }, []);
  return <LangContext.Provider value={lang}>{children}</LangContext.Provider>;
}

/** The current language; components that call it re-render when it changes. */
export function useLang(): Lang {
  return useContext(LangContext);
}

/** A catalog's messages in the current language. */
export function useMessages<M>(catalog: Catalog<M>): M {
  return catalog[useContext(LangContext)];
}

/** The language switch every panel shows: each language named in itself. */
export function LanguageSelect({ className, label }: { className?: string; label: string }) {
  const lang = useLang();
  return (
    <select className={className ?? 'lang-select'} aria-label={label} data-testid="language" value={lang} onChange={(e) => setLang(e.target.value as Lang)}>
      {LANGS.map((l) => (
        <option key={l} value={l} lang={l}>
          {LANG_NAMES[l]}
        </option>
      ))}
    </select>
  );
}
