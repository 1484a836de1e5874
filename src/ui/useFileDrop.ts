import { type DragEvent, useState } from 'react';

const carriesFiles = (event: DragEvent) => Array.from(event.dataTransfer.types).includes('Files');

/**
 * Page-wide file drop. Without it a file dropped beside the drop zone makes the browser navigate to that file,
 * and the lab's state is lost.
 */
export function useFileDrop(onFiles: (files: File[]) => void) {
  const [dragging, setDragging] = useState(false);
  return {
    dragging,
    handlers: {
      onDragOver(event: DragEvent) {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setDragging(true);
      },
      onDragLeave(event: DragEvent) {
        // Leaving a child fires too; only a leave to outside the page ends the drag.
        if (event.relatedTarget === null) setDragging(false);
      },
      onDrop(event: DragEvent) {
        if (!carriesFiles(event)) return;
        event.preventDefault();
        setDragging(false);
        if (event.dataTransfer.files.length) onFiles(Array.from(event.dataTransfer.files));
      },
    },
  };
}
