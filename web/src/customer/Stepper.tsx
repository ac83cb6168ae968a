import { useMessages } from '../shared/i18n';
import { customer } from './messages';

/** − n + for a cart line. */
export function Stepper({ name, q, onChange, autoFocus }: { name: string; q: number; onChange: (n: number) => void; autoFocus?: boolean }) {
  const m = useMessages(customer).stepper;
  return (
    <div className="stepper" role="group" aria-label={m.quantityOf(name)}>
      <button type="button" className="btn btn-small icon-btn" aria-label={m.removeOne(name)} onClick={() => onChange(q - 1)}>
        −
      </button>
      <span className="num" aria-live="polite">
        {q}
      </span>
      <button type="button" className="btn btn-small icon-btn" aria-label={m.addOneMore(name)} autoFocus={autoFocus} onClick={() => onChange(q + 1)}>
        +
      </button>
    </div>
  );
}
