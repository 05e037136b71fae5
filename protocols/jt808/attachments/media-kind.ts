/** What an uploaded attachment is (the media store's kinds; 0x1211 types map onto them). */
export type MediaKind = 'image' | 'audio' | 'video' | 'file';
