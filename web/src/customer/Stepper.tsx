/** − n + for a cart line. */
export function Stepper({ name, q, onChange }: { name: string; q: number; onChange: (n: number) => void }) {
  return (
    <div className="stepper" role="group" aria-label={`Quantity of ${name}`}>
      <button type="button" className="btn btn-small icon-btn" aria-label={`Remove one ${name}`} onClick={() => onChange(q - 1)}>
        −
      </button>
      <span className="num" aria-live="polite">
        {q}
      </span>
      <button type="button" className="btn btn-small icon-btn" aria-label={`Add one more ${name}`} onClick={() => onChange(q + 1)}>
        +
      </button>
    </div>
  );
}
