// Where to draw countries and territories that the bundled 110m world atlas has no shape for
// (islands and micro-states: Bahrain, Singapore, Malta, Andorra, …). Each gets a clickable marker
// at an approximate centre [latitude, longitude] in degrees, written for this project. Codes with
// neither a shape nor an entry here (Antarctica, which the map leaves out, or codes that are not
// countries such as EU) are listed beside the map instead. Data only; no I/O.
export const MARKER_CENTROIDS: Readonly<Record<string, readonly [number, number]>> = {
  AD: [42.55, 1.58], AG: [17.07, -61.8], AI: [18.22, -63.06], AW: [12.52, -69.97], AX: [60.18, 19.92],
  BB: [13.19, -59.54], BH: [26.07, 50.55], BL: [17.9, -62.83], BM: [32.31, -64.75], BQ: [12.18, -68.24],
  BV: [-54.42, 3.36], CC: [-12.16, 96.87], CK: [-21.24, -159.78], CV: [15.12, -23.61], CW: [12.17, -68.99],
  CX: [-10.49, 105.62], DM: [15.41, -61.37], FM: [6.92, 158.16], FO: [62.0, -6.79], GD: [12.12, -61.68],
  GG: [49.45, -2.58], GI: [36.14, -5.35], GP: [16.25, -61.58], GS: [-54.43, -36.58], GU: [13.44, 144.79],
  HK: [22.32, 114.17], HM: [-53.08, 73.5], IM: [54.24, -4.55], IO: [-6.34, 71.88], JE: [49.21, -2.13],
  KI: [1.45, 172.98], KM: [-11.65, 43.33], KN: [17.36, -62.78], KY: [19.31, -81.25], LC: [13.91, -60.98],
  LI: [47.17, 9.56], MC: [43.74, 7.42], MF: [18.07, -63.05], MH: [7.13, 171.18], MO: [22.2, 113.54],
  MP: [15.18, 145.75], MQ: [14.64, -61.02], MS: [16.74, -62.19], MT: [35.94, 14.38], MU: [-20.35, 57.55],
  MV: [3.2, 73.22], NF: [-29.04, 167.95], NR: [-0.52, 166.93], NU: [-19.05, -169.87], PF: [-17.68, -149.41],
  PM: [46.94, -56.27], PN: [-25.07, -130.1], PW: [7.51, 134.58], RE: [-21.12, 55.54], SC: [-4.68, 55.49],
  SG: [1.35, 103.82], SH: [-15.97, -5.71], SJ: [78.22, 15.65], SM: [43.94, 12.46], ST: [0.19, 6.61],
  SX: [18.04, -63.07], TC: [21.69, -71.8], TK: [-9.2, -171.85], TO: [-21.18, -175.2], TV: [-8.52, 179.2],
  UM: [19.28, 166.65], VA: [41.9, 12.45], VC: [13.25, -61.2], VG: [18.42, -64.64], VI: [18.34, -64.9],
  WF: [-13.77, -177.16], WS: [-13.76, -172.1], YT: [-12.83, 45.17],
};
