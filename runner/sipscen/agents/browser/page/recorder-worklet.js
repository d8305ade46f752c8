// sipscen browser agent: the receive tap. Collects the remote audio (channel 0) into
// chunks of `chunk` frames and posts each as 16-bit PCM to the page (agent.js).
class Recorder extends AudioWorkletProcessor {
  constructor(options) {
    super();
    this.size = (options.processorOptions && options.processorOptions.chunk) || 1600;
    this.buf = new Int16Array(this.size);
    this.fill = 0;
  }

  process(inputs) {
    const input = inputs[0];
    const samples = input && input.length ? input[0] : null;
    const n = samples ? samples.length : 128;
    for (let i = 0; i < n; i += 1) {
      const v = samples ? Math.max(-1, Math.min(1, samples[i])) : 0;
      this.buf[this.fill] = v < 0 ? v * 0x8000 : v * 0x7fff;
      this.fill += 1;
      if (this.fill === this.size) {
        this.port.postMessage(this.buf.buffer, [this.buf.buffer]);
        this.buf = new Int16Array(this.size);
        this.fill = 0;
      }
    }
    return true;
  }
}

registerProcessor('sipscen-recorder', Recorder);
