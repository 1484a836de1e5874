import { type DragEvent, useState } from 'react';
import { uploadFiles } from '../store/actions';

/** Drop or choose CIFAR-10 binary files; parsing happens in the engine Worker, never here. */
export function UploadZone({ busy }: { busy: boolean }) {
  const [over, setOver] = useState(false);
  const take = (list: FileList | null) => {
    if (list?.length) void uploadFiles(Array.from(list));
  };
  const onDrop = (event: DragEvent) => {
    event.preventDefault();
    setOver(false);
    take(event.dataTransfer.files);
  };
  return (
    <label
      className={over ? 'upload-zone over' : 'upload-zone'}
      data-testid="dataset-upload"
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
    >
      <input
        type="file"
        multiple
        accept=".bin,.gz,.tgz,.tar"
        disabled={busy}
        onChange={(e) => {
          take(e.target.files);
          e.target.value = '';
        }}
      />
      <span>
        Drop <code>cifar-10-binary.tar.gz</code> or its <code>.bin</code> batch files here, or click to
        choose.
      </span>
    </label>
  );
}
