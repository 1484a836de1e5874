/** A place reserved for a feature that is not built yet: says so plainly, shows nothing made up. */
export function UpcomingPanel({ id, title, purpose }: { id: string; title: string; purpose: string }) {
  return (
    <section className="panel upcoming" data-testid={`panel-${id}`} aria-labelledby={`${id}-title`}>
      <h2 id={`${id}-title`}>{title}</h2>
      <p>{purpose}</p>
      <p className="hint">Not built yet.</p>
    </section>
  );
}
